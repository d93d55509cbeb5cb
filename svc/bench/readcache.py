"""The read cache phase: how stale another worker's answer is, and what an entry costs.

- ``cache_bytes_per_entry``: WORKERS=1; every seeded application and configuration read once,
  then the cache's own count of its bytes (``configsvc_read_cache_bytes``) per entry, and the
  worker's RSS growth per entry (``cache_rss_bytes_per_entry``).
- ``cache_staleness_*``: WORKERS=2, one keep-alive connection to each worker (found through
  the kernel's socket table). A PUT through one; from its response (the commit came just
  before it) GETs of the same configuration through the other, back to back and without
  ``Config-Min-Revision``, until one answers the new version (its ETag).
- ``cache_bytes_to_bound``: then every resource read through both workers, whose
  READ_CACHE_MAX_MB is a quarter of what that needs: bytes held / the two bounds (at most 1
  when the bound holds).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from bench import cpus, dataset, scenarios, servers, stats
from bench.plan import Plan

BYTES_METRIC = "configsvc_read_cache_bytes"


class Connection:
    """One keep-alive HTTP/1.1 connection, the least client that can time a request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.port = int(writer.get_extra_info("sockname")[1])

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(
        self, method: str, path: str, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, payload

    def close(self) -> None:
        self.writer.close()


def owner(server: servers.Server, client_port: int) -> int | None:
    """The worker holding the server end of the connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if (local, remote) == (server.port, client_port):
            inode = fields[9]
    for pid in server.workers():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if inode is not None and os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


async def one_per_worker(server: servers.Server) -> list[Connection]:
    """A connection to each worker (the kernel places each new one: retry until it has)."""
    found: dict[int, Connection] = {}
    workers = len(server.workers())
    for _ in range(200):
        conn = await Connection.open(server.port)
        await conn.request("GET", "/healthz")
        pid = owner(server, conn.port)
        if pid is not None and pid not in found:
            found[pid] = conn
            if len(found) == workers:
                return list(found.values())
        else:
            conn.close()
    raise RuntimeError(f"could not reach all {workers} workers")


def paths(data: dataset.Dataset) -> list[str]:
    """Every seeded application and configuration."""
    return [f"/api/v1/applications/{a}" for a in data.applications] + [
        f"/api/v1/configurations/{c.id}" for c in data.configurations
    ]


async def _pipelined(conn: Connection, targets: list[str], headers: str, batch: int = 200) -> None:
    for at in range(0, len(targets), batch):
        chunk = targets[at : at + batch]
        conn.writer.write(b"".join(
            f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() for p in chunk
        ))  # fmt: skip
        for _ in chunk:
            lines = (await conn.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            size = next(
                (
                    int(v)
                    for k, _, v in (x.partition(":") for x in lines)
                    if k.lower() == "content-length"
                ),
                0,
            )
            await conn.reader.readexactly(size)


async def warm(server: servers.Server, data: dataset.Dataset, token: str | None = None) -> None:
    """Read every seeded resource through every worker (pipelined): what a service that has
    been up a while holds in memory."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    conns = await one_per_worker(server)
    try:
        await asyncio.gather(*(_pipelined(conn, paths(data), auth) for conn in conns))
    finally:
        for conn in conns:
            conn.close()


async def _staleness(
    writer: Connection, reader: Connection, config: dataset.Config, plan: Plan
) -> list[float]:
    path = f"/api/v1/configurations/{config.id}"
    latencies = []
    await reader.request("GET", path)  # in the reader's worker's memory from now on
    started = time.monotonic()
    for i in range(plan.live_changes):
        await asyncio.sleep(max(0.0, started + i * plan.live_interval_s - time.monotonic()))
        body = scenarios.PUT_CONFIG.fill(NAME=config.name, SEQ=str(i)).encode()
        status, headers, _ = await writer.request("PUT", path, body)
        committed, etag = time.monotonic(), headers.get("etag")
        if status != 200:
            raise RuntimeError(f"PUT answered {status}")
        while (await reader.request("GET", path))[1].get("etag") != etag:
            pass
        latencies.append((time.monotonic() - committed) * 1000)
    return latencies


async def _two_workers(
    server: servers.Server, data: dataset.Dataset, plan: Plan
) -> tuple[list[list[float]], float]:
    """Staleness, repetitions of it; then every resource read through both workers, and the
    bytes their caches hold (summed over the workers)."""
    writer, reader = await one_per_worker(server)
    try:
        runs = [await _staleness(writer, reader, data.configurations[2], plan)
                for _ in range(plan.reps)]  # fmt: skip
        await asyncio.gather(*(_pipelined(conn, paths(data), "") for conn in (writer, reader)))
        _, _, text = await reader.request("GET", "/metrics")
    finally:
        writer.close()
        reader.close()
    return runs, _held(text)


async def _read_everything(server: servers.Server, data: dataset.Dataset) -> float:
    """GET every application and configuration once (pipelined); the cache's bytes afterwards."""
    conn = await Connection.open(server.port)
    try:
        await _pipelined(conn, paths(data), "")
        _, _, text = await conn.request("GET", "/metrics")
    finally:
        conn.close()
    return _held(text)


def _held(metrics: bytes) -> float:
    found = servers.samples(metrics.decode())
    if BYTES_METRIC not in found:
        raise RuntimeError(f"no {BYTES_METRIC} in /metrics")
    return found[BYTES_METRIC]


def run(
    plan: Plan, url: str, data: dataset.Dataset, pinning: cpus.Pinning, say: stats.Say
) -> stats.Figures:
    """Two servers: WORKERS=1 with the default bound for what entries cost; then WORKERS=2,
    bounded to a quarter of that, for staleness across workers and the bound under a load
    larger than it."""
    entries = len(data.applications) + len(data.configurations)
    say("read cache: memory per entry")
    with servers.service(url, 1, pinning) as server:
        (worker,) = server.workers()
        before = servers.rss_kib(worker)
        held = asyncio.run(_read_everything(server, data))
        grown = (servers.rss_kib(worker) - before) * 1024
    bound_mb = max(0.01, round(held / 4 / 2**20, 2))
    say(f"read cache: staleness across workers, then reading everything under {bound_mb} MB")
    env = {"keepalive_timeout_s": "600", "read_cache_max_mb": str(bound_mb)}
    with servers.service(url, 2, pinning, **env) as server:
        runs, bounded = asyncio.run(_two_workers(server, data, plan))
    p99 = [stats.percentile(latencies, 99) for latencies in runs]
    say(f"  staleness p99: {[round(v, 2) for v in p99]} ms; {held / entries:.0f} bytes per "
        f"entry counted, {grown / entries:.0f} by RSS; {bounded / 2**20:.1f} MB held by two "
        f"workers bounded to {bound_mb} MB each")  # fmt: skip
    return {
        "cache_staleness_p50_ms": stats.spread([stats.percentile(r, 50) for r in runs]),
        "cache_staleness_p99_ms": stats.spread(p99),
        "cache_bytes_per_entry": stats.spread([held / entries]),
        "cache_rss_bytes_per_entry": stats.spread([grown / entries]),
        "cache_bytes_to_bound": stats.spread([bounded / (2 * bound_mb * 2**20)]),
    }
