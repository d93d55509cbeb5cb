"""The asyncio load generator, for machines without wrk.

``python -m bench.loadgen BASE_URL SCENARIO --data DIR --duration S --connections N``

Each connection is a keep-alive HTTP/1.1 stream that sends the next request as soon as the
previous response is read (closed loop, like wrk). Requests are written and responses parsed by
hand: aiohttp's client costs several times more CPU per request, and the generator's own cost
would then cap the figures it is meant to measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench import dataset, load, scenarios, stats


@dataclass
class Requests:
    """Makes the bytes of each request of one scenario."""

    scenario: scenarios.Scenario
    host: str
    data: dataset.Dataset
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    seq: int = 0
    # The access token of the run, from the environment (never the command line).
    bearer: str = field(
        default_factory=lambda: (
            f"Authorization: Bearer {t}\r\n" if (t := os.environ.get(load.TOKEN_ENV)) else ""
        )
    )

    def next(self) -> bytes:
        self.seq += 1
        # Uniform picks over the seeded ids; nothing here needs to be unguessable.
        config = random.choice(self.data.configurations)  # noqa: S311
        app = random.choice(self.data.applications) if self.data.applications else ""  # noqa: S311
        values = {
            "config": config.id,
            "app": app,
            "NAME": config.name,
            "SEQ": str(self.seq),
            "APP": app,
            "UNIQUE": f"bench-{self.token}-{self.seq}",
        }
        path = self.scenario.path.format(**values)
        head = f"{self.scenario.method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.bearer}"
        if self.scenario.body is None:
            return (head + "\r\n").encode()
        body = self.scenario.body.fill(**values).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one response (Content-Length framed): its status and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    remaining: float = float("inf")  # requests still to send, for runs of a fixed count

    def take(self) -> bool:
        self.remaining -= 1
        return self.remaining >= 0


async def connection(
    host: str, port: int, requests: Requests, deadline: float, tally: Tally
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and tally.take():
            payload = requests.next()
            started = time.perf_counter()
            writer.write(payload)
            try:
                status, _ = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status >= 400:
                tally.errors += 1
    finally:
        writer.close()


async def run(
    base_url: str, scenario: scenarios.Scenario, data: dataset.Dataset, duration_s: float,
    connections: int = load.CONNECTIONS, total: int | None = None,
) -> load.LoadResult:  # fmt: skip
    """Closed-loop load for ``duration_s``, or until ``total`` requests have been sent."""
    parts = urllib.parse.urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tally = Tally() if total is None else Tally(remaining=total)
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(
        *(
            connection(host, port, Requests(scenario, f"{host}:{port}", data), deadline, tally)
            for _ in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    samples = tally.latencies_ms or [0.0]
    return load.LoadResult(
        len(tally.latencies_ms),
        elapsed,
        stats.percentile(samples, 50),
        stats.percentile(samples, 99),
        tally.errors,
    )


BY_NAME = {s.name: s for s in (*scenarios.CEILINGS, *scenarios.SERVICE, scenarios.GET_CONFIG_OPEN)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("base_url")
    parser.add_argument("scenario", choices=sorted(BY_NAME))
    parser.add_argument("--data", type=Path, default=Path())
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=load.CONNECTIONS)
    args = parser.parse_args(argv)
    data = dataset.Dataset.read(args.data)
    result = uvloop.run(
        run(args.base_url, BY_NAME[args.scenario], data, args.duration, args.connections)
    )
    print(load.MARKER + json.dumps(result.as_json()), flush=True)


if __name__ == "__main__":
    main()
