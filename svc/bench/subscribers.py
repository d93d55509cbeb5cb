"""A process holding many WebSocket subscribers, steered line by line over stdin/stdout.

``python -m bench.subscribers WS_URL --count N [--app ID ...] [--since R] [--bare] [--source A]``

It opens N sockets from source address A (subscribing each to one of the given applications,
round robin), prints ``{"event": "ready", ...}`` (with how many ``failed`` to open), then
answers JSON commands, one per line:

- ``{"cmd": "drive", "base_url": U, "changes": K, "interval_s": S, "expect": E, ...}``: make K
  changes S seconds apart (a PUT of ``config_id``/``config_name``, or with ``"bare": true`` a
  POST /publish of a message ``message_bytes`` long) and report, per change, the time from
  sending it until the E-th subscriber received it: the *last* subscriber's latency.
- ``{"cmd": "stats"}``: what has arrived so far; ``{"cmd": "wait", "revision": R, "expect":
  E}``: block until E subscribers (default 1) hold revision R, and say when the last of them
  got it, on the wall clock and on the monotonic one (system-wide on Linux, so another process
  on this machine may compare it with its own).

Writes and receipts are timed on this process's monotonic clock, so no clocks are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import uvloop

from bench import cpus, loadgen, receipts, scenarios, wsclient

CONNECTING = 200  # sockets opening at once: well under any listen backlog


class Holder:
    def __init__(self, url: str, bare: bool, source: str | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.bare, self.source = bare, source
        self.failed: list[str] = []  # sockets that did not open, or were not answered
        self.receipts = receipts.Receipts()
        self.subs: list[wsclient.Subscriber] = []
        self.published = 0

    async def open_one(self, app: str, since: int | None, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await self._subscribe(app, since)
            except (OSError, TimeoutError) as exc:  # counted: one failure must not end the run
                self.failed.append(f"{type(exc).__name__}: {exc}")

    async def _subscribe(self, app: str, since: int | None) -> None:
        sub = await wsclient.connect(
            self.host, self.port, self.path, self.receipts.on_text, self.source
        )
        self.subs.append(sub)
        message: dict[str, Any] = {"type": "subscribe", "application_id": app}
        if since is not None:
            message["since"] = since
        reply = asyncio.get_running_loop().create_future()
        if not self.bare:
            self.receipts.replies[sub] = reply
        sub.send_text(json.dumps(message))
        if not self.bare:
            await asyncio.wait_for(reply, 60)

    async def open(
        self, count: int, apps: Sequence[str], since: int | None, connecting: int = CONNECTING
    ) -> dict[str, Any]:
        started = time.monotonic()
        gate = asyncio.Semaphore(connecting)
        await asyncio.gather(
            *(self.open_one(apps[i % len(apps)], since, gate) for i in range(count))
        )
        return {
            "event": "ready",
            "subscribers": len(self.subs),
            "failed": len(self.failed),
            "failures": sorted(set(self.failed))[:5],
            "connect_s": time.monotonic() - started,
        }

    def request(self, cmd: dict[str, Any], seq: int) -> tuple[bytes, int | None]:
        """The bytes of one write, and its revision when known before the answer (bare)."""
        host = f"{self.host}:{self.port}"
        if cmd.get("bare"):
            self.published += 1
            text = bare_message(self.published, int(cmd["message_bytes"]))
            head = f"POST /publish HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(text)}\r\n\r\n"
            return head.encode() + text.encode(), self.published
        body = scenarios.PUT_CONFIG.fill(NAME=cmd["config_name"], SEQ=str(seq)).encode()
        head = (
            f"PUT /api/v1/configurations/{cmd['config_id']} HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body, None

    async def drive(self, cmd: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        sent: dict[int, float] = {}
        failed = 0
        started = time.monotonic()
        try:
            for i in range(int(cmd["changes"])):
                await asyncio.sleep(
                    max(0.0, started + i * float(cmd["interval_s"]) - time.monotonic())
                )
                payload, revision = self.request(cmd, int(time.time() * 1000) + i)
                t0 = time.monotonic()
                writer.write(payload)
                status, body = await loadgen.read_response(reader)
                if status >= 300:
                    failed += 1
                    continue
                sent[revision if revision is not None else int(json.loads(body)["revision"])] = t0
        finally:
            writer.close()
        return await self.settle(sent, int(cmd["expect"]), failed, time.monotonic() - started)

    async def settle(
        self, sent: dict[int, float], expect: int, failed: int, pace_s: float
    ) -> dict[str, Any]:
        """Wait (bounded) for every subscriber to have every change, then report latencies."""
        await self.receipts.until(
            lambda: all(self.receipts.count(r) >= expect for r in sent), timeout_s=30
        )
        latencies = [
            (self.receipts.by_revision[r][1] - t0) * 1000
            for r, t0 in sent.items()
            if self.receipts.count(r) >= expect
        ]
        return {
            "event": "drive",
            "latencies_ms": latencies,
            "missing": sum(max(0, expect - self.receipts.count(r)) for r in sent),
            "failed_writes": failed,
            "message_bytes": self.receipts.message_bytes,
            "pace_s": pace_s,
        }

    def stats(self) -> dict[str, Any]:
        closed = [s.closed.result() for s in self.subs if s.closed.done()]
        return {
            "event": "stats",
            "subscribers": len(self.subs),
            "changes": self.receipts.changes,
            "revisions": len(self.receipts.by_revision),
            "max_revision": max(self.receipts.by_revision, default=0),
            "closed": len(closed),
            "close_codes": sorted(set(closed)),
            "message_bytes": self.receipts.message_bytes,
            "errors": self.receipts.errors[:5],
        }

    async def wait(self, revision: int, expect: int, timeout_s: float) -> dict[str, Any]:
        await self.receipts.until(lambda: self.receipts.count(revision) >= expect, timeout_s)
        seen = self.receipts.by_revision.get(revision)
        wall = None if seen is None else time.time() - (time.monotonic() - seen[1])
        return {
            **self.stats(), "event": "wait", "reached_at": wall,
            "reached_monotonic": None if seen is None else seen[1],
            "holding": self.receipts.count(revision),
        }  # fmt: skip


def bare_message(revision: int, size: int) -> str:
    """A change-shaped message of ``size`` bytes for the bare broadcast ceiling."""
    head = (
        f'{{"type":"change","application_id":"01JDQ2Z8B6M4R1V3XK7N9P0TQS",'
        f'"revision":{revision},"op":"updated","configuration":{{"pad":"'
    )
    tail = '"}}'
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


async def serve(args: argparse.Namespace) -> None:
    holder = Holder(args.ws_url, args.bare, args.source)
    out = sys.stdout
    out.write(
        json.dumps(await holder.open(args.count, args.app, args.since, args.connecting)) + "\n"
    )
    out.flush()
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["cmd"] == "drive":
            reply = await holder.drive(cmd)
        elif cmd["cmd"] == "wait":
            reply = await holder.wait(
                int(cmd["revision"]), int(cmd.get("expect", 1)), float(cmd.get("timeout_s", 60))
            )
        elif cmd["cmd"] == "stats":
            reply = holder.stats()
        else:
            break
        out.write(json.dumps(reply) + "\n")
        out.flush()


def raise_nofile() -> None:
    """Ten thousand sockets need more descriptors than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers")
    parser.add_argument("ws_url")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--app", action="append", default=[])
    parser.add_argument("--since", type=int)
    parser.add_argument("--bare", action="store_true", help="bare broadcast server: no replies")
    parser.add_argument("--source", help="the local address to connect from (127.x.y.z)")
    # aiohttp listens with a backlog of 128: several holders together stay under it.
    parser.add_argument(
        "--connecting", type=int, default=CONNECTING, help="sockets opening at once"
    )
    args = parser.parse_args(argv)
    if not args.app:
        args.app = ["-"]
    raise_nofile()
    uvloop.run(serve(args))


class Remote:
    """The bench's handle on a subscribers process on the load CPUs."""

    def __init__(self, argv: list[str], pinning: cpus.Pinning) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.subscribers", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: cpus.pin(pinning.load),
        )
        self.ready = self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"subscribers process exited ({self.proc.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()
