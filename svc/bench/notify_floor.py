"""The floor under every live figure: raw LISTEN/NOTIFY, from commit to receipt.

One connection listens, another commits ``pg_notify`` at a steady pace; the time from sending
the committing statement to the listener's callback is what PostgreSQL and asyncpg cost before
the service does anything. The payload is about the size of the service's own notifications.

A transaction that only notifies writes no WAL, so its commit never waits for a flush; a PUT's
does. ``durable=True`` measures what a write's notification really costs: the same, with a
one-row UPDATE committed in the same statement (one transaction), so each commit flushes WAL.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

CHANNEL = "bench_notify_floor"
PAYLOAD_PAD = "x" * 80
# A logged table of one row: its UPDATE writes WAL, which the commit must flush.
TABLE = "CREATE TABLE IF NOT EXISTS bench_notify_floor (id int PRIMARY KEY, n bigint NOT NULL)"
ROW = "INSERT INTO bench_notify_floor VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
DURABLE_NOTIFY = """
WITH written AS (UPDATE bench_notify_floor SET n = n + 1 WHERE id = 1 RETURNING n)
SELECT pg_notify($1, $2) FROM written
"""


async def measure(url: str, count: int, interval_s: float, durable: bool = False) -> list[float]:
    """Latencies in ms of ``count`` notifications sent ``interval_s`` apart (``durable``: each
    committed with a one-row UPDATE)."""
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
        if durable:
            await sender.execute(TABLE)
            await sender.execute(ROW)
        statement = DURABLE_NOTIFY if durable else "SELECT pg_notify($1, $2)"
        started = time.monotonic()
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i * interval_s - time.monotonic()))
            sent[i] = time.monotonic()
            await sender.execute(statement, CHANNEL, f"{i}:{PAYLOAD_PAD}")
        async with asyncio.timeout(10):
            while len(received) < count:
                arrived.clear()
                await arrived.wait()
    finally:
        await listener.close()
        await sender.close()
    return [(received[i] - sent[i]) * 1000 for i in range(count)]
