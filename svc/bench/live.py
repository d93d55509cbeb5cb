"""The live phase: the change feed's latency, fan-out, memory, catch-up and write throughput.

All against one worker (WORKERS=1), beside the floor (raw LISTEN/NOTIFY) and the bare
broadcast ceiling measured in the same run with the same subscriber client.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import (
    catchup,
    cpus,
    dataset,
    load,
    notify_floor,
    report,
    scenarios,
    servers,
    stats,
    subscribers,
)
from bench.plan import Plan

# A change message for one of the bench's ~1 KB configurations is about this long; the
# ceiling uses the size the service's messages actually had whenever the feed is there.
DEFAULT_MESSAGE_BYTES = 1450
FEED_KEYS = (
    "live_1sub_p50_ms", "live_1sub_p99_ms",
    "live_fanout_1000_last_p50_ms", "live_fanout_1000_last_p99_ms",
    "live_fanout_10000_last_p50_ms", "live_fanout_10000_last_p99_ms",
    "ratio_fanout_1000_to_ceiling", "ratio_fanout_10000_to_ceiling",
    "rss_kib_per_idle_subscriber", "catchup_10k_s", "writes_per_s_with_1000_subs",
)  # fmt: skip


def feed_available(base_url: str) -> bool:
    """Whether the service has the WebSocket route (a plain GET of it is then not a 404)."""
    try:
        # Always http://127.0.0.1:<port>: no scheme comes from outside.
        with urllib.request.urlopen(base_url + "/api/v1/ws", timeout=5):  # noqa: S310
            return True
    except urllib.error.HTTPError as exc:
        return exc.code not in (404, 405)
    except OSError:
        return False


def _p(latencies: list[float], pct: float) -> float | None:
    return stats.percentile(latencies, pct) if latencies else None


def _spread(values: list[float | None]) -> stats.Spread | None:
    known = [v for v in values if v is not None]
    return stats.spread(known) if known else None


def floor(plan: Plan, url: str, say: stats.Say) -> stats.Figures:
    """The bare floor and the durable one (a one-row write committed with each NOTIFY),
    repetitions interleaved."""
    figures: stats.Figures = {}
    runs: dict[str, list[list[float]]] = {"notify_floor": [], "notify_floor_durable": []}
    for _ in range(plan.reps):
        for name, durable in (("notify_floor", False), ("notify_floor_durable", True)):
            runs[name].append(asyncio.run(
                notify_floor.measure(url, plan.live_changes, plan.live_interval_s, durable)
            ))  # fmt: skip
    for name, latencies in runs.items():
        p99 = [_p(each, 99) for each in latencies]
        say(f"  LISTEN/NOTIFY {name} p99: {[round(v or 0, 2) for v in p99]} ms")
        figures[f"{name}_p50_ms"] = _spread([_p(each, 50) for each in latencies])
        figures[f"{name}_p99_ms"] = _spread(p99)
    return figures


def drive_args(
    plan: Plan, changes: int, interval_s: float, config: dataset.Config
) -> dict[str, Any]:
    return {
        "cmd": "drive", "changes": changes, "interval_s": interval_s,
        "config_id": config.id, "config_name": config.name,
    }  # fmt: skip


def one_subscriber(
    plan: Plan,
    service: servers.Server,
    since: int,
    data: dataset.Dataset,
    pinning: cpus.Pinning,
    say: stats.Say,
) -> stats.Figures:
    config = data.configurations[0]
    argv = [
        servers.ws_url(service, "/api/v1/ws"),
        "--app",
        config.application_id,
        "--since",
        str(since),
    ]
    p50: list[float | None] = []
    p99: list[float | None] = []
    with subscribers.Remote(argv, pinning) as client:
        for _ in range(plan.reps):
            reply = client.ask(
                **drive_args(plan, plan.live_changes, plan.live_interval_s, config), expect=1
            )
            p50.append(_p(reply["latencies_ms"], 50))
            p99.append(_p(reply["latencies_ms"], 99))
    say(f"  1 subscriber p99: {[round(v or 0, 2) for v in p99]} ms")
    return {"live_1sub_p50_ms": _spread(p50), "live_1sub_p99_ms": _spread(p99)}


def fanout(
    plan: Plan,
    n: int,
    service: servers.Server | None,
    since: int,
    data: dataset.Dataset,
    pinning: cpus.Pinning,
    say: stats.Say,
) -> stats.Figures:
    """Service and bare ceiling, n subscribers each, repetitions interleaved."""
    config = data.configurations[0]
    figures: stats.Figures = {}
    size = DEFAULT_MESSAGE_BYTES
    mine: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        client = None
        if service is not None:
            worker = service.workers()[0]
            before = servers.rss_kib(worker)
            argv = [
                servers.ws_url(service, "/api/v1/ws"),
                "--count",
                str(n),
                "--app",
                config.application_id,
                "--since",
                str(since),
            ]
            client = stack.enter_context(subscribers.Remote(argv, pinning))
            time.sleep(1)  # let the server settle after the connection storm
            growth = (servers.rss_kib(worker) - before) / n
            say(
                f"  {n} subscribers connected in {client.ready['connect_s']:.1f} s,"
                f" {growth:.1f} KiB each"
            )
            if n == max(plan.fanout_sizes):
                figures["rss_kib_per_idle_subscriber"] = stats.spread([growth])
        ceiling = stack.enter_context(servers.ceiling("broadcast", pinning))
        ceiling_client = stack.enter_context(
            subscribers.Remote(
                [servers.ws_url(ceiling, "/ws"), "--count", str(n), "--bare"], pinning
            )
        )
        args = drive_args(plan, plan.fanout_changes, plan.fanout_interval_s, config)
        for _ in range(plan.reps):
            if client is not None:
                mine.append(client.ask(**args, expect=n))
                size = mine[-1]["message_bytes"] or size
            bare.append(ceiling_client.ask(**args, expect=n, bare=True, message_bytes=size))
    for name, runs in ((f"live_fanout_{n}_last", mine), (f"ceiling_ws_broadcast_{n}_last", bare)):
        figures[f"{name}_p50_ms"] = _spread([_p(r["latencies_ms"], 50) for r in runs])
        figures[f"{name}_p99_ms"] = _spread([_p(r["latencies_ms"], 99) for r in runs])
        missing = sum(r["missing"] for r in runs)
        say(
            f"  {name} p99: {[round(_p(r['latencies_ms'], 99) or 0, 1) for r in runs]} ms,"
            f" {missing} missing"
        )
    if mine:
        pairs = [
            (_p(m["latencies_ms"], 99), _p(b["latencies_ms"], 99))
            for m, b in zip(mine, bare, strict=True)
        ]
        figures[f"ratio_fanout_{n}_to_ceiling"] = _spread(
            [m / b if m and b else None for m, b in pairs]
        )
    return figures


def writes_with_subscribers(
    plan: Plan,
    service: servers.Server,
    since: int,
    data: dataset.Dataset,
    data_dir: Path,
    pinning: cpus.Pinning,
    say: stats.Say,
) -> stats.Figures:
    """PUTs at full speed while ``writes_subscribers`` subscribers each follow an application."""
    apps = data.applications[: plan.writes_subscribers]
    argv = [
        servers.ws_url(service, "/api/v1/ws"),
        "--count",
        str(plan.writes_subscribers),
        "--since",
        str(since),
    ]
    argv += [arg for app in apps for arg in ("--app", app)]
    with subscribers.Remote(argv, pinning) as client:
        runs = [load.measure(scenarios.PUT, service.url, data_dir, plan.rest_seconds, pinning)
                for _ in range(plan.reps)]  # fmt: skip
        received = client.ask(cmd="stats")
    say(
        f"  PUT with {len(apps)} subscribers: {[round(r.rps) for r in runs]} req/s, "
        f"{received['changes']} changes delivered, {sum(r.errors for r in runs)} errors, "
        f"{received['closed']} sockets closed {received['close_codes']}"
    )
    return {"writes_per_s_with_1000_subs": stats.spread([r.rps for r in runs])}


def run(
    plan: Plan,
    url: str,
    server_url: str,
    data: dataset.Dataset,
    data_dir: Path,
    pinning: cpus.Pinning,
    say: stats.Say,
) -> tuple[stats.Figures, dict[str, str]]:
    say("live: LISTEN/NOTIFY floor")
    figures = floor(plan, url, say)
    notes: dict[str, str] = {}
    if plan.catchup_changes != 10000:
        notes["catchup_10k_s"] = f"quick run: measured with {plan.catchup_changes} changes"
    if max(plan.fanout_sizes) != 10000:
        largest = max(plan.fanout_sizes)
        notes["rss_kib_per_idle_subscriber"] = f"quick run: measured at {largest} subscribers"
        for key in report.KEYS:
            if "_10000_" in key:
                notes[key] = "quick run: 10,000 subscribers only in the full run"
    # All connections open from the start, so the catch-up can lock out new ones.
    with servers.service(url, 1, pinning, db_pool_min="10", db_pool_max="10") as service:
        feed = feed_available(service.url)
        if not feed:
            why = "not available: the service has no WebSocket feed (GET /api/v1/ws) yet"
            notes.update(dict.fromkeys(FEED_KEYS, why))

        def since() -> int:
            return asyncio.run(dataset.current_revision(url))

        if feed:
            say("live: 1 subscriber")
            figures.update(one_subscriber(plan, service, since(), data, pinning, say))
        for n in plan.fanout_sizes:
            say(f"live: fan-out to {n}")
            figures.update(fanout(plan, n, service if feed else None, since(), data, pinning, say))
        if feed:
            say(f"live: writes with {plan.writes_subscribers} subscribers")
            figures.update(
                writes_with_subscribers(plan, service, since(), data, data_dir, pinning, say)
            )
            say(f"live: catch-up of {plan.catchup_changes} changes")
            figures.update(
                asyncio.run(catchup.catchup(plan, service, url, server_url, data, pinning, say))
            )
    return figures, notes
