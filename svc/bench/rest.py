"""The REST phase: each endpoint under 32 connections, beside the HTTP ceilings (hello and
fetchrow for reads, a bare single-row UPDATE for writes).

Repetitions are interleaved (hello, fetchrow, then each endpoint; again) rather than run as
blocks, so a slow minute on a shared machine touches every figure alike and the ratios of
paired repetitions stay fair.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from pathlib import Path

from bench import cpus, dataset, load, readcache, report, scenarios, servers, stats
from bench.plan import Plan
from configsvc.auth import tokens


def _figures(name: str, runs: list[load.LoadResult], suffix: str = "") -> dict[str, stats.Spread]:
    return {
        f"{name}_rps{suffix}": stats.spread([r.rps for r in runs]),
        f"{name}_p50_ms{suffix}": stats.spread([r.p50_ms for r in runs]),
        f"{name}_p99_ms{suffix}": stats.spread([r.p99_ms for r in runs]),
        f"{name}_errors{suffix}": stats.spread([float(r.errors) for r in runs]),
    }


Target = tuple[scenarios.Scenario, str, str | None]  # scenario, base URL, bearer token


def _rounds(
    plan: Plan, targets: list[Target], data_dir: Path, pinning: cpus.Pinning, say: stats.Say,
) -> dict[str, list[load.LoadResult]]:  # fmt: skip
    warm = targets[:1] + [
        t for t in targets if t[0] in (scenarios.GET_CONFIG, scenarios.GET_CONFIG_OPEN)
    ]
    for scenario, url, token in warm:
        load.measure(scenario, url, data_dir, plan.warmup_seconds, pinning, token=token)
    runs: dict[str, list[load.LoadResult]] = defaultdict(list)
    for rep in range(plan.reps):
        for scenario, url, token in targets:
            where = data_dir / scenario.data
            result = load.measure(scenario, url, where, plan.rest_seconds, pinning, token=token)
            runs[scenario.name].append(result)
            say(f"  rep {rep + 1} {scenario.name}: {result.rps:,.0f} req/s, "
                f"p99 {result.p99_ms:.2f} ms, {result.errors} errors")  # fmt: skip
    return runs


def _batching(before: dict[str, float], after: dict[str, float]) -> dict[str, stats.Spread | None]:
    """What the group commit did under the PUT and POST rounds (32 connections): writes per
    COMMIT, and each write's mean wait from its own work done to its batch's COMMIT."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    commits, waits = (
        delta("configsvc_write_batch_writes_count"),
        delta("configsvc_write_batch_wait_seconds_count"),
    )
    if not commits or not waits:
        return {"write_batch_writes_mean": None, "write_batch_wait_mean_ms": None}
    return {
        "write_batch_writes_mean": stats.spread(
            [delta("configsvc_write_batch_writes_sum") / commits]
        ),
        "write_batch_wait_mean_ms": stats.spread(
            [delta("configsvc_write_batch_wait_seconds_sum") / waits * 1000]
        ),
    }


def _authenticated(service: servers.Server, admin_secret: str) -> list[Target]:
    """The service's scenarios, each with a token that may do just that: read, or write."""
    read = servers.make_token(service.url, admin_secret, "read")
    write = servers.make_token(service.url, admin_secret, "write")
    return [(s, service.url, write if s in scenarios.WRITES else read) for s in scenarios.SERVICE]


def _service(database_url: str, workers: int, pinning: cpus.Pinning, admin: str) -> servers.Server:
    return servers.service(database_url, workers, pinning, auth_mode="enforce",
                           bootstrap_admin_token=admin)  # fmt: skip


def run(
    plan: Plan, database_url: str, data_dir: Path, pinning: cpus.Pinning, say: stats.Say
) -> dict[str, stats.Spread | None]:
    figures: dict[str, stats.Spread | None] = {}
    admin = tokens.new_secret()
    with contextlib.ExitStack() as stack:
        hello = stack.enter_context(servers.ceiling("hello", pinning))
        fetch = stack.enter_context(servers.ceiling("fetchrow", pinning, database_url))
        write = stack.enter_context(servers.ceiling("update", pinning, database_url))
        service = stack.enter_context(_service(database_url, 1, pinning, admin))
        open_service = stack.enter_context(servers.service(database_url, 1, pinning))
        seeded = dataset.Dataset.read(data_dir)
        # A service that has been up a while: its workers have read what clients read.
        asyncio.run(readcache.warm(service, seeded, admin))
        asyncio.run(readcache.warm(open_service, seeded))
        say("REST, WORKERS=1, with a read (or write) token, beside the ceilings and AUTH_MODE=off")
        targets: list[Target] = [
            (scenarios.HELLO, hello.url, None),
            (scenarios.FETCHROW, fetch.url, None),
            (scenarios.UPDATE, write.url, None),
        ]
        targets += _authenticated(service, admin)
        targets.append((scenarios.GET_CONFIG_OPEN, open_service.url, None))
        before = servers.scrape(service.url, admin)
        runs = _rounds(plan, targets, data_dir, pinning, say)
        figures.update(_batching(before, servers.scrape(service.url, admin)))
    for name, results in runs.items():
        figures.update(_figures(name, results))
    get_config = [r.rps for r in runs["rest_get_config"]]
    figures["ratio_get_config_to_fetchrow"] = stats.spread(
        stats.ratios(get_config, [r.rps for r in runs["ceiling_fetchrow"]])
    )
    figures["ratio_get_config_to_hello"] = stats.spread(
        stats.ratios(get_config, [r.rps for r in runs["ceiling_hello"]])
    )
    figures["ratio_get_app_to_hello"] = stats.spread(
        stats.ratios([r.rps for r in runs["rest_get_app"]], [r.rps for r in runs["ceiling_hello"]])
    )
    figures["ratio_auth_to_open"] = stats.spread(
        stats.ratios(get_config, [r.rps for r in runs["rest_get_config_open"]])
    )
    figures["ratio_put_schema_to_noschema"] = stats.spread(
        stats.ratios(
            [r.rps for r in runs["rest_put_config"]],
            [r.rps for r in runs["rest_put_config_noschema"]],
        )
    )
    for name in ("put", "post"):
        figures[f"ratio_{name}_to_update"] = stats.spread(stats.ratios(
            [r.rps for r in runs[f"rest_{name}_config"]], [r.rps for r in runs["ceiling_update"]]
        ))  # fmt: skip
    with _service(database_url, 2, pinning, admin) as service:
        asyncio.run(readcache.warm(service, dataset.Dataset.read(data_dir), admin))
        say("REST, WORKERS=2")
        runs = _rounds(plan, _authenticated(service, admin), data_dir, pinning, say)
    for name, results in runs.items():
        figures.update(_figures(name, results, report.WORKERS2))
    return figures
