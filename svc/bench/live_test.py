from collections.abc import Callable

from bench import live, stats


def test_a_server_without_the_feed_route_has_no_feed(ceiling: Callable[[str], str]) -> None:
    assert not live.feed_available(ceiling("hello"))
    assert not live.feed_available("http://127.0.0.1:9")  # nothing listens


def test_spread_skips_repetitions_that_measured_nothing() -> None:
    assert live._spread([None, None]) is None
    assert live._spread([2.0, None, 4.0]) == stats.Spread(3.0, 2.0, 4.0, 2)
