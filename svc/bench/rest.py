"""The REST phase: each endpoint under 32 connections, beside the two HTTP ceilings.

Repetitions are interleaved (hello, fetchrow, then each endpoint; again) rather than run as
blocks, so a slow minute on a shared machine touches every figure alike and the ratios of
paired repetitions stay fair.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench import cpus, load, report, scenarios, servers, stats
from bench.plan import Plan

Say = Callable[[str], None]


def _figures(name: str, runs: list[load.LoadResult], suffix: str = "") -> dict[str, stats.Spread]:
    return {
        f"{name}_rps{suffix}": stats.spread([r.rps for r in runs]),
        f"{name}_p50_ms{suffix}": stats.spread([r.p50_ms for r in runs]),
        f"{name}_p99_ms{suffix}": stats.spread([r.p99_ms for r in runs]),
        f"{name}_errors{suffix}": stats.spread([float(r.errors) for r in runs]),
    }


def _rounds(
    plan: Plan, targets: list[tuple[scenarios.Scenario, str]], data_dir: Path,
    pinning: cpus.Pinning, say: Say,
) -> dict[str, list[load.LoadResult]]:  # fmt: skip
    for scenario, url in targets[:1] + [t for t in targets if t[0] is scenarios.GET_CONFIG]:
        load.measure(scenario, url, data_dir, plan.warmup_seconds, pinning)  # warm pools, caches
    runs: dict[str, list[load.LoadResult]] = defaultdict(list)
    for rep in range(plan.reps):
        for scenario, url in targets:
            result = load.measure(scenario, url, data_dir, plan.rest_seconds, pinning)
            runs[scenario.name].append(result)
            say(f"  rep {rep + 1} {scenario.name}: {result.rps:,.0f} req/s, "
                f"p99 {result.p99_ms:.2f} ms, {result.errors} errors")  # fmt: skip
    return runs


def run(
    plan: Plan, database_url: str, data_dir: Path, pinning: cpus.Pinning, say: Say
) -> dict[str, stats.Spread | None]:
    figures: dict[str, stats.Spread | None] = {}
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(servers.ceiling("hello", pinning))
        fetch = stack.enter_context(servers.ceiling("fetchrow", pinning, database_url))
        service = stack.enter_context(servers.service(database_url, 1, pinning))
        say("REST, WORKERS=1, with the ceilings")
        targets = [(scenarios.HELLO, hello.url), (scenarios.FETCHROW, fetch.url)]
        targets += [(s, service.url) for s in scenarios.SERVICE]
        runs = _rounds(plan, targets, data_dir, pinning, say)
    for name, results in runs.items():
        figures.update(_figures(name, results))
    get_config = [r.rps for r in runs["rest_get_config"]]
    figures["ratio_get_config_to_fetchrow"] = stats.spread(
        stats.ratios(get_config, [r.rps for r in runs["ceiling_fetchrow"]])
    )
    figures["ratio_get_config_to_hello"] = stats.spread(
        stats.ratios(get_config, [r.rps for r in runs["ceiling_hello"]])
    )
    with servers.service(database_url, 2, pinning) as service:
        say("REST, WORKERS=2")
        targets = [(s, service.url) for s in scenarios.SERVICE]
        runs = _rounds(plan, targets, data_dir, pinning, say)
    for name, results in runs.items():
        figures.update(_figures(name, results, report.WORKERS2))
    return figures
