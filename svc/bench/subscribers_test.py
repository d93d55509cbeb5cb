import json
import time
from collections.abc import Callable

from bench import cpus, subscribers
from configsvc.devtools import pgcluster


def test_bare_message_has_the_size_asked_for_and_a_revision() -> None:
    text = subscribers.bare_message(42, 1450)
    assert len(text) == 1450
    message = json.loads(text)
    assert (message["type"], message["revision"]) == ("change", 42)


def test_remote_drives_the_bare_ceiling_and_times_the_last_subscriber(
    ceiling: Callable[[str], str],
) -> None:
    url = ceiling("broadcast").replace("http://", "ws://") + "/ws"
    with subscribers.Remote([url, "--count", "20", "--bare"], cpus.plan()) as remote:
        assert remote.ready["subscribers"] == 20
        reply = remote.ask(cmd="drive", changes=5, interval_s=0.01, expect=20, bare=True,
                           message_bytes=300)  # fmt: skip
        assert reply["missing"] == 0
        assert len(reply["latencies_ms"]) == 5
        assert reply["message_bytes"] == 300
        stats = remote.ask(cmd="stats")
        assert stats["changes"] == 100
        assert stats["max_revision"] == 5


def test_remote_holds_sockets_from_its_source_address_and_counts_those_that_failed(
    ceiling: Callable[[str], str],
) -> None:
    url = ceiling("broadcast").replace("http://", "ws://") + "/ws"
    argv = [url, "--count", "5", "--bare", "--source", "127.0.0.9", "--connecting", "2"]
    with subscribers.Remote(argv, cpus.plan()) as remote:
        assert (remote.ready["subscribers"], remote.ready["failed"]) == (5, 0)
        remote.ask(cmd="drive", changes=1, interval_s=0, expect=5, bare=True, message_bytes=200)
        reply = remote.ask(cmd="wait", revision=1, expect=5, timeout_s=5)
        assert reply["holding"] == 5
        assert 0 < time.monotonic() - reply["reached_monotonic"] < 5  # one clock, system-wide
    nobody = f"ws://127.0.0.1:{pgcluster.free_port()}/ws"
    with subscribers.Remote([nobody, "--count", "3", "--bare"], cpus.plan()) as remote:
        assert (remote.ready["subscribers"], remote.ready["failed"]) == (0, 3)
        assert "ConnectionRefusedError" in remote.ready["failures"][0]
