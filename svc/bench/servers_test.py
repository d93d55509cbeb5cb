import os

from bench import cpus, servers


def test_ceiling_runs_pinned_and_stops() -> None:
    pinning = cpus.plan()
    with servers.ceiling("hello", pinning) as server:
        (pid,) = server.workers()
        assert os.sched_getaffinity(pid) == pinning.server
        assert servers.rss_kib(pid) > 1000
    assert server.proc is not None
    assert server.proc.returncode is not None
