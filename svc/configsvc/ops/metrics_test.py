"""What a real server serves on /metrics: valid for promtool, known series at 0, process and
build info; the README's lag query. (Who may scrape and the request counts: metrics_web_test.)

The multi-worker aggregation is tested on real processes in api/fleet_test.py.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from configsvc.readme_test import DOCS


def sample(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def test_a_metrics_grant_is_on_every_application_or_refused(client) -> None:
    grant = {"application_id": "01JDQ2Z8B6M4R1V3XK7N9P0TQS", "access": "metrics"}
    resp = await client.post("/api/v1/tokens", json={"name": "x", "grants": [grant]})
    assert resp.status == 422
    assert "grants" in (await resp.json())["errors"][0]["field"]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)"
)


def _scrape(service: Any) -> str:
    with urllib.request.urlopen(f"{service.url}/metrics", timeout=10) as resp:
        text: str = resp.read().decode()
    return text


@needs_promtool
def test_a_real_servers_metrics_pass_promtool(service_factory) -> None:
    service = service_factory(workers=2, metrics_public="true")
    for path in ("/readyz", "/api/v1/applications", "/no/such/route"):
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{service.url}{path}", timeout=10).close()
    text = _scrape(service)
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "configsvc_http_requests_total" in text


def test_known_series_are_there_at_zero_with_process_and_build_info(service_factory) -> None:
    service = service_factory(workers=2, metrics_public="true")
    text = _scrape(service)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name, label, values in (
        ("configsvc_client_acks_total", "status", ("applied", "rejected")),
        ("configsvc_feed_resets_total", "reason", ("rewound", "pruned", "listener_failed")),
        ("configsvc_auth_refusals_total", "reason", ("unauthenticated", "forbidden")),
    ):
        for value in values:
            found = [s for s in families[name.removesuffix("_total")].samples
                     if s.name == name and s.labels == {label: value}]  # fmt: skip
            assert [s.value for s in found] == [0.0], f"{name}{{{label}={value!r}}}"
    build = families["configsvc_build_info"].samples
    assert [(s.labels["version"], s.value) for s in build] == [
        (importlib.metadata.version("configsvc"), 1.0)
    ]
    # The whole server: the master and both workers (each worker alone holds well over 10 MB).
    master = _rss(service.proc.pid)
    workers = sum(_rss(pid) for pid in service.worker_pids())
    rss = sample(text, "process_resident_memory_bytes")
    assert rss >= 0.8 * (master + workers), "summed over the master and its workers"
    started = sample(text, "process_start_time_seconds")
    assert time.time() - 120 < started <= time.time()
    assert sample(text, "process_open_fds") > 0
    assert sample(text, "process_max_fds") >= sample(text, "process_open_fds")
    assert sample(text, "process_cpu_seconds_total") > 0


def _rss(pid: int) -> int:
    """A process's resident memory, read from /proc as the collector reads it."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _lag_query() -> str:
    text = (DOCS / "operations.md").read_text()
    block = re.search(r"```promql\n(.*?)```", text, re.DOTALL)
    assert block is not None
    lines = block.group(1).splitlines()
    return next(line for line in lines if "configsvc_feed_dispatched_revision" in line)


# Two instances scraped 10 s apart while writes went on: a's workers are at 129 and 127 of
# its head 129, b was scraped back at 100 with both workers current.
LAG_TEST = """
rule_files: []
tests:
  - interval: 15s
    input_series:
      - {series: 'configsvc_feed_head_revision{instance="a"}', values: '129'}
      - {series: 'configsvc_feed_dispatched_revision{instance="a",pid="1"}', values: '129'}
      - {series: 'configsvc_feed_dispatched_revision{instance="a",pid="2"}', values: '127'}
      - {series: 'configsvc_feed_head_revision{instance="b"}', values: '100'}
      - {series: 'configsvc_feed_dispatched_revision{instance="b",pid="3"}', values: '100'}
      - {series: 'configsvc_feed_dispatched_revision{instance="b",pid="4"}', values: '100'}
    promql_expr_test:
      - expr: 'QUERY'
        eval_time: 0s
        exp_samples:
          - {labels: '{instance="a"}', value: 2}
          - {labels: '{instance="b"}', value: 0}
"""


@needs_promtool
def test_the_readmes_lag_query_compares_each_instance_with_itself(tmp_path: Path) -> None:
    query = _lag_query()
    assert "'" not in query
    tests = tmp_path / "lag_test.yml"
    tests.write_text(LAG_TEST.replace("QUERY", query))
    assert PROMTOOL is not None
    run = subprocess.run([PROMTOOL, "test", "rules", str(tests)], capture_output=True,
                         text=True, timeout=30)  # fmt: skip
    assert run.returncode == 0, f"{query}\n{run.stdout}{run.stderr}"
