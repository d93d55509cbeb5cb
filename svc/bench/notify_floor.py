"""The floor under every live figure: raw LISTEN/NOTIFY, from commit to receipt.

One connection listens, another commits ``pg_notify`` at a steady pace; the time from sending
the committing statement to the listener's callback is what PostgreSQL and asyncpg cost before
the service does anything. The payload is about the size of the service's own notifications.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

CHANNEL = "bench_notify_floor"
PAYLOAD_PAD = "x" * 80


async def measure(url: str, count: int, interval_s: float) -> list[float]:
    """Latencies in ms of ``count`` notifications sent ``interval_s`` apart."""
    listener = await asyncpg.connect(url)
    sender = await asyncpg.connect(url)
    received: dict[int, float] = {}
    arrived = asyncio.Event()

    def on_notify(conn: object, pid: int, channel: str, payload: str) -> None:
        received[int(payload.partition(":")[0])] = time.monotonic()
        arrived.set()

    sent: dict[int, float] = {}
    try:
        await listener.add_listener(CHANNEL, on_notify)
        started = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i * interval_s - time.monotonic()))
            sent[i] = time.monotonic()
            await sender.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{i}:{PAYLOAD_PAD}")
        async with asyncio.timeout(10):
            while len(received) < count:
                arrived.clear()
                await arrived.wait()
    finally:
        await listener.close()
        await sender.close()
    return [(received[i] - sent[i]) * 1000 for i in range(count)]
