"""Rollouts in PostgreSQL (migrations/0010_rollouts.sql): SQL only. State changes run inside
service/writes.py's transaction; rejections are fleet data, written on their own."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources

INSERT = """
INSERT INTO rollouts (id, configuration_id, application_id, state, step, base_version,
                      candidate, comments, steps, abort_on, labels, reason, due_at)
VALUES ($1, $2, $3, 'running', 0, $4, $5, $6, $7, $8, $9, $10,
        now() + make_interval(secs => $11))
RETURNING *
"""
GET = "SELECT * FROM rollouts WHERE id = $1 AND configuration_id = $2"
LOCK = "SELECT * FROM rollouts WHERE id = $1 FOR UPDATE"
RUNNING_OF = "SELECT * FROM rollouts WHERE configuration_id = $1 AND state = 'running'"
RUNNING_IN = "SELECT * FROM rollouts WHERE application_id = $1 AND state = 'running'"
# Newest first: ids are ULIDs, so id order is creation order.
PAGE = """
SELECT * FROM rollouts WHERE configuration_id = $1 AND ($2 = '' OR id < $2)
ORDER BY id DESC LIMIT $3
"""
# One due rollout that no other worker is advancing right now.
DUE = """
SELECT * FROM rollouts WHERE state = 'running' AND due_at <= now()
ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""
NEXT_DUE = "SELECT extract(epoch FROM min(due_at) - now()) FROM rollouts WHERE state = 'running'"
MOVE = """
UPDATE rollouts SET step = $2, due_at = now() + make_interval(secs => $3), updated_at = now()
WHERE id = $1 RETURNING *
"""
END = """
UPDATE rollouts SET state = $2, ended_reason = $3, due_at = NULL, updated_at = now()
WHERE id = $1 RETURNING *
"""
CANCEL_IN = """
UPDATE rollouts SET state = 'cancelled', ended_reason = $2, due_at = NULL, updated_at = now()
WHERE application_id = $1 AND state = 'running'
RETURNING id, configuration_id
"""
REJECT = """
INSERT INTO rollout_rejections (rollout_id, client_key, client_id, reason)
VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
"""
REJECTIONS = """
SELECT client_id, reason, at FROM rollout_rejections WHERE rollout_id = $1 ORDER BY at LIMIT $2
"""
REJECTED = "SELECT count(*) FROM rollout_rejections WHERE rollout_id = $1"
# What a client said last in its hello to this application (the fleet tables, live/clients.py).
LABELS_OF = """
SELECT labels FROM client_subscriptions WHERE application_id = $1 AND client_id = $2
ORDER BY connected_at DESC LIMIT 1
"""
BY_STATE = "SELECT state, count(*) FROM rollouts GROUP BY state"
_BUCKETS = 10_000  # hundredths of a percent


def targeted(
    rollout_id: str, percent: int, wanted: Mapping[str, str], client_id: str | None,
    labels: Mapping[str, str],
) -> bool:  # fmt: skip
    """Whether a client is in the first ``percent`` of the fleet for this rollout.

    A stable hash of (client_id, rollout id): the same clients stay in as the percent grows.
    A client without a client_id can have no stable place: it is in only at 100.
    """
    if any(labels.get(key) != value for key, value in wanted.items()):
        return False
    if percent >= 100:
        return True
    if client_id is None:
        return False
    digest = hashlib.sha256(f"{rollout_id}\x00{client_id}".encode()).digest()
    return int.from_bytes(digest[:8]) % _BUCKETS < percent * (_BUCKETS // 100)


def candidate_of(row: Mapping[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The configuration a targeted client gets: the base with the candidate's config, at the
    version the promotion will give it (so an ack of it names the candidate)."""
    comments = row["comments"] if row["comments"] is not None else base["comments"]
    return {**base, "config": row["candidate"], "comments": comments,
            "version": row["base_version"] + 1}  # fmt: skip


def resource(row: Mapping[str, Any]) -> dict[str, Any]:
    """The rollout as the API shows it, without ``clients`` and ``rejections`` (reads add them)."""
    steps = row["steps"]
    return {
        "id": row["id"],
        "configuration_id": row["configuration_id"],
        "application_id": row["application_id"],
        "state": row["state"],
        "step": row["step"],
        "percent": steps[row["step"]]["percent"],
        "base_version": row["base_version"],
        "candidate": {"config": row["candidate"]},
        "steps": steps,
        "abort_on": row["abort_on"],
        "labels": row["labels"],
        "created_at": resources.timestamp(row["created_at"]),
        "updated_at": resources.timestamp(row["updated_at"]),
        "reason": row["reason"],
        "ended_reason": row["ended_reason"],
    }


async def insert(
    conn: asyncpg.Connection, rollout_id: str, config: Mapping[str, Any], body: Mapping[str, Any]
) -> asyncpg.Record:
    """A running rollout at its first step; a second running one is ``errors.Conflict``."""
    try:
        row: asyncpg.Record = await conn.fetchrow(
            INSERT, rollout_id, config["id"], config["application_id"], config["version"],
            body["config"], body.get("comments"), body["steps"], body["abort_on"],
            body.get("labels") or {}, body["reason"], float(body["steps"][0]["hold_s"]),
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise errors.Conflict(
            f"configuration {config['id']} already has a running rollout"
        ) from exc
    return row


async def get(conn: asyncpg.Connection, config_id: str, rollout_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(GET, rollout_id, config_id)
    return row


async def lock(conn: asyncpg.Connection, rollout_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(LOCK, rollout_id)
    return row


async def running_of(conn: asyncpg.Connection, config_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(RUNNING_OF, config_id)
    return row


async def running_in(conn: asyncpg.Connection, app_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(RUNNING_IN, app_id)
    return rows


async def page(conn: asyncpg.Connection, config_id: str, after: str, limit: int) -> list[Any]:
    rows: list[asyncpg.Record] = await conn.fetch(PAGE, config_id, after, limit)
    return rows


async def due(conn: asyncpg.Connection) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(DUE)
    return row


async def next_due_s(conn: asyncpg.Connection) -> float | None:
    """Seconds until the next running rollout is due (negative: overdue); None: none runs."""
    value = await conn.fetchval(NEXT_DUE)
    return None if value is None else float(value)


async def move(conn: asyncpg.Connection, rollout_id: str, step: int, hold_s: float) -> Any:
    return await conn.fetchrow(MOVE, rollout_id, step, hold_s)


async def end(conn: asyncpg.Connection, rollout_id: str, state: str, why: str) -> Any:
    return await conn.fetchrow(END, rollout_id, state, why)


async def cancel_in(conn: asyncpg.Connection, app_id: str, why: str) -> list[asyncpg.Record]:
    """End the application's running rollouts; the (id, configuration_id) of each."""
    rows: list[asyncpg.Record] = await conn.fetch(CANCEL_IN, app_id, why)
    return rows


async def reject(
    conn: asyncpg.Connection, rollout_id: str, key: str, client_id: str | None,
    reason: str | None,
) -> int:  # fmt: skip
    """Record one client's rejection (once per client); returns how many clients rejected."""
    await conn.execute(REJECT, rollout_id, key, client_id, reason)
    return await rejected(conn, rollout_id)


async def rejections(conn: asyncpg.Connection, rollout_id: str, limit: int = 20) -> list[Any]:
    rows = await conn.fetch(REJECTIONS, rollout_id, limit)
    return [
        {"client_id": r["client_id"], "reason": r["reason"], "at": resources.timestamp(r["at"])}
        for r in rows
    ]


async def rejected(conn: asyncpg.Connection, rollout_id: str) -> int:
    count: int = await conn.fetchval(REJECTED, rollout_id)
    return count


async def labels_of(conn: asyncpg.Connection, app_id: str, client_id: str) -> dict[str, str]:
    """The labels of the client's latest hello to the application; none if it never sent one."""
    labels = await conn.fetchval(LABELS_OF, app_id, client_id)
    return dict(labels or {})


async def by_state(conn: asyncpg.Connection) -> dict[str, int]:
    return {row["state"]: row["count"] for row in await conn.fetch(BY_STATE)}
