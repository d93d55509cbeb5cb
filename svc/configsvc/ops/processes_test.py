"""``process_*`` for a process and its children as one server, read from /proc: memory and CPU
summed, the oldest start, the fullest descriptor table and the smallest limit."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.process_collector import ProcessCollector

from configsvc.ops import processes


def _rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def children() -> Iterator[list[int]]:
    # Each says it is up before the test reads it: an interpreter still starting grows its RSS
    # between the sum's reading and the test's own (seen on a loaded machine).
    started = [subprocess.Popen(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    ) for _ in range(2)]  # fmt: skip
    for proc in started:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "up\n"
    yield [p.pid for p in started]
    for proc in started:
        proc.kill()
        proc.communicate()  # waits, and closes its stdout


def test_a_process_and_its_children_are_reported_as_one(children: list[int]) -> None:
    me = os.getpid()
    assert set(children) <= set(processes.tree(me))
    samples = {
        family.name: family.samples[0].value
        for family in processes.ProcessTree(root=lambda: me).collect()
    }
    assert samples.keys() == {name.removesuffix("_total") for name in processes.COMBINE}
    assert samples["process_resident_memory_bytes"] >= _rss(me) + sum(map(_rss, children)) * 0.8
    assert samples["process_open_fds"] >= len(os.listdir("/proc/self/fd")) - 1
    assert samples["process_max_fds"] > 0
    alone = {f.name: f.samples[0].value for f in ProcessCollector(registry=None).collect()}
    assert samples["process_start_time_seconds"] == alone["process_start_time_seconds"], (
        "the oldest: the root's own start"
    )


def test_a_root_that_is_gone_reports_the_answering_process_alone() -> None:
    assert processes.tree(2**22 + 1) == [os.getpid()]
