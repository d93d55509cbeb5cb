"""The scale phase: how it spreads sockets, its figures, and a tiny real run of both sides."""

from __future__ import annotations

import asyncio
import dataclasses
import resource

import pytest

from bench import cpus, dataset, scale
from bench.plan import FULL, QUICK


def test_sockets_are_spread_over_targets_and_holders_each_from_its_own_address() -> None:
    spread = scale.sources(100_000, "127.0.0", targets=1)
    assert [count for _, _, count in spread] == [12_500] * 8
    assert [address for _, address, _ in spread][:2] == ["127.0.0.10", "127.0.0.11"]
    spread = scale.sources(36_001, "127.0.1", targets=2, per_holder=10_000)
    assert sum(count for _, _, count in spread) == 36_001
    assert {t: sum(c for tt, _, c in spread if tt == t) for t in (0, 1)} == {0: 18_001, 1: 18_000}
    assert max(count for _, _, count in spread) <= 10_000
    assert len({address for _, address, _ in spread}) == len(spread) == 4
    assert scale.sources(5, "127.0.0") == [(0, "127.0.0.10", 5)]


def test_the_last_subscriber_is_the_latest_across_holders() -> None:
    sent = {7: 10.0, 8: 20.0, 9: 30.0}
    holders: list[dict[int, float | None]] = [
        {7: 10.2, 8: 20.5, 9: None},  # one of its subscribers never had revision 9
        {7: 10.4, 8: 20.1, 9: 30.1},
    ]
    latencies, missing = scale.last_ms(sent, holders)
    assert latencies == pytest.approx([400.0, 500.0])
    assert missing == 1


def test_the_descriptor_limit_caps_the_sockets_and_says_why() -> None:
    assert scale.capacity(FULL, 200_000) == (100_000, None)
    n, why = scale.capacity(FULL, 20_000)
    assert n == 2 * (20_000 - scale.MARGIN_FDS)
    assert why is not None
    assert "20000 descriptors" in why
    assert "WORKERS=2" in why


def test_raising_the_descriptor_limit_never_lowers_it() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert scale.raise_fds(10) == soft
    assert scale.raise_fds(soft + 1) >= soft


def test_a_tiny_run_measures_the_service_and_the_ceiling(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = asyncio.run(dataset.seed(database_url, applications=3, per_application=2))
    monkeypatch.setattr(scale, "PER_HOLDER", 120)  # 300 sockets: 3 holders, 3 addresses
    plan = dataclasses.replace(QUICK, scale_subscribers=300, scale_changes=3, scale_interval_s=0.2)
    said: list[str] = []
    figures, notes = scale.run(plan, database_url, data, cpus.plan(), said.append)
    medians = {k: (v.median if v else None) for k, v in figures.items()}
    assert notes == {}
    assert medians["scale_subscribers"] == medians["ceiling_scale_subscribers"] == 300
    assert medians["scale_dropped"] == medians["ceiling_scale_dropped"] == 0
    for key in ("scale_last_p99_ms", "ceiling_scale_last_p99_ms", "scale_rest_p99_ms"):
        assert 0 < (medians[key] or 0) < 5000, key
    assert (medians["scale_rss_mib"] or 0) > 0
    assert any("2 processes" in line for line in said)
