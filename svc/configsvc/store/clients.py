"""The fleet view's tables (migrations/0006_clients.sql): written in batches, read by the API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

HEARTBEAT = """
INSERT INTO client_workers (worker, seen_at) VALUES ($1, now())
ON CONFLICT (worker) DO UPDATE SET seen_at = now()
"""

UPSERT = """
INSERT INTO client_subscriptions (
    worker, socket, application_id, client_id, labels, sdk, remote_addr, connected_at,
    disconnected_at, delivered_revision, applied_revision, results)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (worker, socket, application_id) DO UPDATE SET
    client_id = $4, labels = $5, sdk = $6, disconnected_at = $9, delivered_revision = $10,
    applied_revision = $11, results = $12
"""

# Rows as the API shows them. A row is disconnected when its socket said so, or when its worker
# stopped stamping `client_workers` (dead): then from the worker's last stamp.
FOR_APPLICATION = """
WITH rows AS (
    SELECT s.*, CASE
        WHEN s.disconnected_at IS NOT NULL THEN s.disconnected_at
        WHEN w.seen_at IS NULL OR w.seen_at < now() - make_interval(secs => $2) THEN
            coalesce(w.seen_at, s.connected_at)
    END AS gone_at
    FROM client_subscriptions s LEFT JOIN client_workers w USING (worker)
    WHERE s.application_id = $1
)
SELECT client_id, labels, sdk, remote_addr, worker, connected_at,
       gone_at IS NULL AS connected, gone_at AS disconnected_at,
       delivered_revision, applied_revision, results
FROM rows
WHERE gone_at IS NULL OR gone_at > now() - make_interval(secs => $3)
ORDER BY connected_at, worker, socket
"""

# Subscriptions to the application that are connected now: open sockets of live workers.
LIVE_COUNT = """
SELECT count(*)
FROM client_subscriptions s JOIN client_workers w USING (worker)
WHERE s.application_id = $1 AND s.disconnected_at IS NULL
  AND w.seen_at >= now() - make_interval(secs => $2)
"""

# The application's latest revision: its own, its configurations', or a deletion's in the log.
HEAD = """
SELECT greatest(
    (SELECT revision FROM applications WHERE id = $1),
    (SELECT max(revision) FROM configurations WHERE application_id = $1),
    (SELECT max(revision) FROM changes WHERE application_id = $1))
"""

# A worker is forgotten (with its clients) once its clients, shown as gone from its last stamp,
# have been gone long enough: after the expiry that declared it dead, plus the keep time.
PRUNE = """
WITH dead AS (
    DELETE FROM client_workers WHERE seen_at < now() - make_interval(secs => $2)
    RETURNING worker
)
DELETE FROM client_subscriptions
WHERE disconnected_at < now() - make_interval(secs => $1)
   OR worker IN (SELECT worker FROM dead)
"""


async def heartbeat(conn: asyncpg.Connection, worker: str) -> None:
    """This worker is alive: its connected clients still count as connected."""
    await conn.execute(HEARTBEAT, worker)


async def upsert(conn: asyncpg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Write the rows (in ``UPSERT``'s column order) that changed since the last flush."""
    await conn.executemany(UPSERT, rows)


async def for_application(
    conn: asyncpg.Connection, application_id: str, expiry_s: float, keep_s: float
) -> list[dict[str, Any]]:
    """Subscriptions to the application: live ones and those gone less than ``keep_s`` ago."""
    rows = await conn.fetch(FOR_APPLICATION, application_id, expiry_s, keep_s)
    return [dict(row) for row in rows]


async def live_count(conn: asyncpg.Connection, application_id: str, expiry_s: float) -> int:
    """How many subscriptions to the application are connected, across every worker."""
    count: int = await conn.fetchval(LIVE_COUNT, application_id, expiry_s)
    return count


async def head(conn: asyncpg.Connection, application_id: str) -> int:
    """The application's latest revision (0 when it has none)."""
    revision: int | None = await conn.fetchval(HEAD, application_id)
    return revision or 0


async def prune(conn: asyncpg.Connection, keep_s: float, expiry_s: float) -> None:
    """Forget clients gone longer than ``keep_s``, and workers dead that long."""
    await conn.execute(PRUNE, keep_s, expiry_s + keep_s)
