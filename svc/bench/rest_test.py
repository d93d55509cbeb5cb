"""The REST phase's figure math, and its interleaved repetitions on a real (short) load."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench import cpus, load, rest, scenarios, servers, stats
from bench.plan import Plan
from configsvc.auth import tokens


def test_figures_are_the_spread_of_each_measure_over_the_repetitions() -> None:
    runs = [load.LoadResult(1000, 1.0, 1.0, 4.0, 0), load.LoadResult(3000, 1.0, 2.0, 8.0, 2),
            load.LoadResult(2000, 1.0, 3.0, 6.0, 0)]  # fmt: skip
    figures = rest._figures("rest_get_config", runs, "_workers2")
    assert figures == {
        "rest_get_config_rps_workers2": stats.Spread(2000.0, 1000.0, 3000.0, 3),
        "rest_get_config_p50_ms_workers2": stats.Spread(2.0, 1.0, 3.0, 3),
        "rest_get_config_p99_ms_workers2": stats.Spread(6.0, 4.0, 8.0, 3),
        "rest_get_config_errors_workers2": stats.Spread(0.0, 0.0, 2.0, 3),
    }


def test_repetitions_are_interleaved_across_targets(
    ceiling: Callable[[str], str], data_dir: Path
) -> None:
    plan = Plan(quick=True, reps=2, rest_seconds=0.3, warmup_seconds=0.2)
    url = ceiling("hello")
    said: list[str] = []
    targets: list[rest.Target] = [(scenarios.HELLO, url, None), (scenarios.FETCHROW, url, None)]
    runs = rest._rounds(plan, targets, data_dir, cpus.plan(), said.append)
    order = [line.split(":")[0].strip() for line in said]
    assert order == ["rep 1 ceiling_hello", "rep 1 ceiling_fetchrow",
                     "rep 2 ceiling_hello", "rep 2 ceiling_fetchrow"]  # fmt: skip
    assert {name: len(results) for name, results in runs.items()} == {
        "ceiling_hello": 2, "ceiling_fetchrow": 2}  # fmt: skip
    assert all(r.requests > 0 and r.errors == 0 for r in runs["ceiling_hello"])


def test_scrape_sums_the_services_metrics_and_the_rest_phase_reads_its_batching(
    database_url: str,
) -> None:
    admin = tokens.new_secret()
    pinning = cpus.plan()
    with servers.service(database_url, 1, pinning, auth_mode="enforce",
                         bootstrap_admin_token=admin) as server:  # fmt: skip
        before = servers.scrape(server.url, admin)
        create = urllib.request.Request(  # one write: one commit of one write
            f"{server.url}/api/v1/applications", data=json.dumps({"name": "a"}).encode(),
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )  # fmt: skip
        urllib.request.urlopen(create, timeout=10).close()
        after = servers.scrape(server.url, admin)
    assert (
        after["configsvc_write_batch_writes_count"]
        == before.get("configsvc_write_batch_writes_count", 0.0) + 1
    )
    figures = rest._batching(before, after)
    assert figures["write_batch_writes_mean"] == stats.Spread(1.0, 1.0, 1.0, 1)
    wait = figures["write_batch_wait_mean_ms"]
    assert wait is not None
    assert 0 < wait.median < 1000
    assert rest._batching(after, after) == {
        "write_batch_writes_mean": None,
        "write_batch_wait_mean_ms": None,
    }
