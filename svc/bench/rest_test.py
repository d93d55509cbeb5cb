"""The REST phase's figure math, and its interleaved repetitions on a real (short) load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench import cpus, load, rest, scenarios, stats
from bench.plan import Plan


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
