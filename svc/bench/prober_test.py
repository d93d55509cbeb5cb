import time
from collections.abc import Callable

from bench import prober


def test_the_prober_times_gets_until_stopped_and_counts_failures(
    ceiling: Callable[[str], str],
) -> None:
    port = int(ceiling("hello").rsplit(":", 1)[1])
    probes = [prober.Prober(port, "/hello"), prober.Prober(port, "/missing")]
    for each in probes:
        each.start()
    time.sleep(0.3)
    for each in probes:
        each.stopping.set()
        each.join(5)
    ok, missing = probes
    assert ok.errors == 0
    assert len(ok.latencies_ms) >= 5
    assert all(ms > 0 for ms in ok.latencies_ms)
    assert missing.latencies_ms == []
    assert missing.errors >= 5
