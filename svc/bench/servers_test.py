import json
import os
import urllib.request

from bench import cpus, rest, servers, stats
from configsvc.auth import tokens


def test_ceiling_runs_pinned_and_stops() -> None:
    pinning = cpus.plan()
    with servers.ceiling("hello", pinning) as server:
        (pid,) = server.workers()
        assert os.sched_getaffinity(pid) == pinning.server
        assert servers.rss_kib(pid) > 1000
    assert server.proc is not None
    assert server.proc.returncode is not None


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
