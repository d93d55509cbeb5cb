"""The scale phase (issue 23's moonshot): ``scale_subscribers`` idle subscribers of one
application, WORKERS=2 on this machine, and one change to that application at a time.

Per change: from the moment its PUT is sent until the *last* subscriber has it, across
every holder process (CLOCK_MONOTONIC is system-wide on Linux, so their receipt times
compare with this process's send times). Meanwhile a second client GETs another
configuration every 10 ms: the REST p99 during the fan-out. At the end: the sockets dropped
(never opened, or closed since). Then the same sockets on the bare broadcast ceiling
(ceilings.py ``broadcast``) with a message of the same size: as many ceiling processes as
the service has workers (each on its own port, holding its share; a publish is POSTed to
each), more if the descriptor limit needs them. All servers share the one server CPU.

Sockets are held by ``bench.subscribers`` processes of at most PER_HOLDER each, each from
its own source address: one has only ~28,000 ephemeral ports towards one server port. The
service's come from 127.0.0.10, .11, ...; the ceiling's from 127.0.1.10, ...

Raised for this phase through env: MAX_CONNECTIONS (a per-worker cap, default 10,000) to
what a worker may hold, since the kernel splits the accepts between the workers only
roughly evenly. RLIMIT_NOFILE is raised for the bench and so the servers it starts, where
it may be (root with CAP_SYS_RESOURCE may pass the hard limit); where it may not, the
phase holds what the limit allows across the workers and says so in a note. Everything
else as ``make run`` has it (heartbeat 20 s, send buffer 4 MiB, pool 2..10).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.client
import json
import resource
import time
from collections.abc import Callable
from typing import Any

from bench import cpus, dataset, live, prober, scenarios, servers, stats, subscribers
from bench.plan import Plan

PER_HOLDER = 12_500
SERVICE_NET, CEILING_NET = "127.0.0", "127.0.1"
MARGIN_FDS = 2_000  # the servers' own descriptors: pool, listener, logs, the bench's clients
CONNECTING = 100  # sockets opening at once, across the holders
SETTLE_S = 30.0  # after the last change, how long every subscriber has to get every change
# Makes the i-th change: the revision it carries and when (monotonic) it was sent.
Change = Callable[[int], tuple[int, float]]


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (i < n % parts) for i in range(parts)]


def sources(
    n: int, net: str, targets: int = 1, per_holder: int | None = None
) -> list[tuple[int, str, int]]:
    """``(target, source address, sockets)`` per holder: ``n`` split evenly over the target
    server processes, each share over as few holders as hold it, each its own address."""
    per_holder = per_holder or PER_HOLDER
    spread: list[tuple[int, str, int]] = []
    for target, share in enumerate(_split(n, targets)):
        for count in _split(share, max(1, -(-share // per_holder))):
            spread.append((target, f"{net}.{10 + len(spread)}", count))
    return spread


def raise_fds(wanted: int) -> int:
    """Raise this process's descriptor limit to ``wanted`` if it may; the limit it has then.

    Root may raise the hard limit up to /proc/sys/fs/nr_open; anyone else only up to it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
        return wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def last_ms(
    sent: dict[int, float], reached: list[dict[int, float | None]]
) -> tuple[list[float], int]:
    """Per change, the latest receipt across holders minus its send time (ms); and how many
    changes some holder never fully had (``None``: not every subscriber of it got it)."""
    latencies, missing = [], 0
    for revision, t0 in sent.items():
        times = [holder.get(revision) for holder in reached]
        if any(t is None for t in times):
            missing += 1
            continue
        latencies.append((max(t for t in times if t is not None) - t0) * 1000)
    return latencies, missing


def hold(
    stack: contextlib.ExitStack,
    argvs: list[list[str]],
    spread: list[tuple[int, str, int]],
    pinning: cpus.Pinning,
) -> list[subscribers.Remote]:
    """Start every holder at once; each is closed when ``stack`` is."""
    # aiohttp's listen backlog is 128 (web.SockSite's default, the service's too): more
    # connects at once overflow it, and each dropped SYN costs its socket a second or more.
    connecting = str(max(1, CONNECTING // len(spread)))

    def start(target: int, source: str, count: int) -> subscribers.Remote:
        args = [*argvs[target], "--count", str(count), "--source", source,
                "--connecting", connecting]  # fmt: skip
        remote = subscribers.Remote(args, pinning)
        stack.callback(remote.close)
        return remote

    with concurrent.futures.ThreadPoolExecutor(len(spread)) as pool:
        return list(pool.map(lambda each: start(*each), spread))


def put(port: int, config: dataset.Config, seq: int) -> tuple[int, float]:
    """One PUT of ``config``: the revision it made and when it was sent."""
    body = scenarios.PUT_CONFIG.fill(NAME=config.name, SEQ=str(seq)).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    t0 = time.monotonic()
    conn.request("PUT", f"/api/v1/configurations/{config.id}", body,
                 {"Content-Type": "application/json"})  # fmt: skip
    resp = conn.getresponse()
    text = resp.read()
    conn.close()
    if resp.status >= 300:
        raise RuntimeError(f"PUT answered {resp.status}: {text[:200]!r}")
    return int(json.loads(text)["revision"]), t0


def publish(ports: list[int], revision: int, size: int) -> tuple[int, float]:
    """A change-shaped message POSTed to every ceiling process (each holds its share of the
    sockets), one after the other; when the first was sent."""
    body = subscribers.bare_message(revision, size).encode()
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port in ports]
    for conn in conns:
        conn.connect()
    t0 = time.monotonic()
    for conn in conns:
        conn.request("POST", "/publish", body)
    for conn in conns:
        conn.getresponse().read()
        conn.close()
    return revision, t0


def settle(pids: list[int], timeout_s: float = 60.0) -> float:
    """Wait until the servers are idle (under 15% of a CPU over half a second) after the
    connection storm, whose aftermath (bookkeeping of every new client) is not the idle
    load measured here; how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        before = sum(servers.cpu_s(pid) for pid in pids)
        time.sleep(0.5)
        if sum(servers.cpu_s(pid) for pid in pids) - before < 0.075:
            break
    return time.monotonic() - started


def reached(
    remotes: list[subscribers.Remote], sent: dict[int, float], say: stats.Say
) -> list[dict[int, float | None]]:
    """Per holder, per change: when its last subscriber got it (``None``: some never did)."""
    out = []
    deadline = time.monotonic() + SETTLE_S
    short: list[str] = []
    for remote in remotes:
        expect = remote.ready["subscribers"]
        mine: dict[int, float | None] = {}
        for revision in sent:
            left = max(0.0, deadline - time.monotonic())
            reply = remote.ask(cmd="wait", revision=revision, expect=expect, timeout_s=left)
            mine[revision] = reply["reached_monotonic"] if reply["holding"] >= expect else None
            if reply["holding"] < expect:
                short.append(f"r{revision}: {reply['holding']}/{expect}")
        out.append(mine)
    if short:
        say(f"  changes some subscribers never had (revision: holding/expected): {short[:8]}")
    return out


def side(
    plan: Plan, n: int, procs: list[servers.Server], argvs: list[list[str]], net: str,
    change: Change, pinning: cpus.Pinning, say: stats.Say, probe: prober.Prober | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Hold ``n`` sockets, split over ``argvs`` (a subscribers command line per server
    process), make the changes, and measure; the raw figures."""
    with contextlib.ExitStack() as stack:
        started = time.monotonic()
        remotes = hold(stack, argvs, sources(n, net, len(argvs)), pinning)
        connect_s = time.monotonic() - started
        opened = sum(r.ready["subscribers"] for r in remotes)
        failed = sum(r.ready["failed"] for r in remotes)
        failures = sorted({f for r in remotes for f in r.ready["failures"]})[:3]
        say(f"  {opened} sockets open in {connect_s:.1f} s ({opened / connect_s:.0f}/s), "
            f"{failed} failed {failures}")  # fmt: skip
        pids = [pid for proc in procs for pid in proc.workers()]
        say(f"  servers idle {settle(pids):.1f} s after the last socket opened")
        rss_mib = sum(servers.rss_kib(pid) for pid in pids) / 1024
        if probe is not None:
            probe.start()
        sent: dict[int, float] = {}
        for i in range(plan.scale_changes):
            time.sleep(plan.scale_interval_s)
            revision, t0 = change(i)
            sent[revision] = t0
        times = reached(remotes, sent, say)
        if probe is not None:
            probe.stopping.set()
            probe.join()
        ends = [r.ask(cmd="stats") for r in remotes]
        latencies, missing = last_ms(sent, times)
        closed = sum(e["closed"] for e in ends)
        say(f"  last subscriber: {[round(v) for v in latencies]} ms, {missing} changes missed, "
            f"{closed} closed {sorted({c for e in ends for c in e['close_codes']})}, "
            f"{rss_mib:.0f} MiB server RSS")  # fmt: skip
        return {
            "opened": opened, "connect_s": connect_s, "latencies": latencies,
            "dropped": failed + closed, "rss_mib": rss_mib,
            "message_bytes": max(e["message_bytes"] for e in ends),
        }  # fmt: skip


def _one(value: float | None) -> stats.Spread | None:
    return None if value is None else stats.spread([value])


def figures_of(prefix: str, raw: dict[str, Any]) -> stats.Figures:
    latencies = raw["latencies"]
    return {
        f"{prefix}_subscribers": _one(raw["opened"] - raw["dropped"]),
        f"{prefix}_connect_s": _one(raw["connect_s"]),
        f"{prefix}_last_p50_ms": _one(stats.percentile(latencies, 50) if latencies else None),
        f"{prefix}_last_p99_ms": _one(stats.percentile(latencies, 99) if latencies else None),
        f"{prefix}_dropped": _one(raw["dropped"]),
        f"{prefix}_rss_mib": _one(raw["rss_mib"]),
    }


def capacity(plan: Plan, limit: int) -> tuple[int, str | None]:
    """How many sockets the phase holds under the descriptor limit ``limit`` of each
    process, with the service's ``scale_workers`` workers; why fewer than planned, if so."""
    n = min(plan.scale_subscribers, plan.scale_workers * (limit - MARGIN_FDS))
    if n == plan.scale_subscribers:
        return n, None
    return n, (
        f"{n} sockets, not {plan.scale_subscribers}: {limit} descriptors per process (this "
        f"process may not raise its hard limit: not root, or no CAP_SYS_RESOURCE), less "
        f"{MARGIN_FDS} for each server's own, times WORKERS={plan.scale_workers}"
    )


def run(
    plan: Plan, url: str, data: dataset.Dataset, pinning: cpus.Pinning, say: stats.Say
) -> tuple[stats.Figures, dict[str, str]]:
    limit = raise_fds(plan.scale_subscribers + MARGIN_FDS)
    n, short = capacity(plan, limit)
    notes = {} if short is None else {"scale_subscribers": short}
    config = data.configurations[0]
    other = next(c for c in data.configurations if c.application_id != config.application_id)
    since = str(asyncio.run(dataset.current_revision(url)))
    workers = plan.scale_workers
    say(f"scale: {n} subscribers of one application, WORKERS={workers}, fd limit {limit}")
    # Per worker; the kernel splits the accepts between them only roughly evenly.
    env = {"max_connections": str(min(n, limit - MARGIN_FDS // 2))}
    with servers.service(url, workers, pinning, **env) as service:
        if not live.feed_available(service.url):
            why = "not available: the service has no WebSocket feed (GET /api/v1/ws)"
            return {}, {"scale_subscribers": why}
        argv = [servers.ws_url(service, "/api/v1/ws"), "--app", config.application_id,
                "--since", since]  # fmt: skip
        probe = prober.Prober(service.port, f"/api/v1/configurations/{other.id}")
        mine = side(plan, n, [service], [argv], SERVICE_NET,
                    lambda i: put(service.port, config, int(time.time() * 1000) + i),
                    pinning, say, probe)  # fmt: skip
    rest = probe.latencies_ms
    say(f"  REST GET during the fan-out: {len(rest)} requests, {probe.errors} errors")
    figures = figures_of("scale", mine)
    figures["scale_rest_p99_ms"] = _one(stats.percentile(rest, 99) if rest else None)
    figures["scale_rest_errors"] = _one(probe.errors)
    # As many ceiling processes as the service has workers, or as the limit needs.
    procs = max(workers, -(-n // (limit - MARGIN_FDS)))
    say(f"scale: the same sockets on the bare broadcast ceiling, {procs} processes")
    size = mine["message_bytes"] or live.DEFAULT_MESSAGE_BYTES
    with contextlib.ExitStack() as stack:
        ceilings = [stack.enter_context(servers.ceiling("broadcast", pinning))
                    for _ in range(procs)]  # fmt: skip
        argvs = [[servers.ws_url(c, "/ws"), "--bare"] for c in ceilings]
        ports = [c.port for c in ceilings]
        bare = side(plan, n, ceilings, argvs, CEILING_NET,
                    lambda i: publish(ports, i + 1, size), pinning, say)  # fmt: skip
    figures.update(figures_of("ceiling_scale", bare))
    ours, theirs = figures["scale_last_p99_ms"], figures["ceiling_scale_last_p99_ms"]
    figures["ratio_scale_to_ceiling"] = (
        _one(ours.median / theirs.median) if ours and theirs and theirs.median else None
    )
    return figures, notes
