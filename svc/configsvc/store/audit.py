"""The audit trail: SQL only. Append-only; rows leave only by age (AUDIT_RETENTION_DAYS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from configsvc.store import resources

INSERT = """
INSERT INTO audit (actor_id, actor_name, remote_addr, user_agent, request_id, action,
    target_kind, target_id, application_id, outcome, revision, reason, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""

# Every filter is optional (NULL: any); $1 is the cursor (show ids below it), newest first.
PAGE = """
SELECT * FROM audit
WHERE id < $1
  AND ($2::text IS NULL OR application_id = $2)
  AND ($3::text IS NULL OR actor_id = $3 OR actor_name = $3)
  AND ($4::text IS NULL OR action = $4)
  AND ($5::text IS NULL OR outcome = $5)
  AND ($6::timestamptz IS NULL OR at >= $6)
  AND ($7::timestamptz IS NULL OR at < $7)
ORDER BY id DESC
LIMIT $8
"""

PRUNE = """
WITH gone AS (DELETE FROM audit WHERE at < now() - make_interval(secs => $1) RETURNING 1)
SELECT count(*) FROM gone
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One audited action. ``reason`` is the writer's (X-Change-Reason); ``detail`` says why a
    refused one was refused. Never holds a secret."""

    action: str
    target_kind: str
    target_id: str | None
    application_id: str | None
    outcome: str
    actor_id: str | None = None
    actor_name: str | None = None
    remote_addr: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    revision: int | None = None
    reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """What ``GET /audit`` narrows the trail to; None matches anything."""

    application_id: str | None = None
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def insert(conn: asyncpg.Connection, entry: Entry) -> None:
    """Append ``entry``; inside the caller's transaction, so it commits with what it records."""
    await conn.execute(
        INSERT, entry.actor_id, entry.actor_name, entry.remote_addr, entry.user_agent,
        entry.request_id, entry.action, entry.target_kind, entry.target_id,
        entry.application_id, entry.outcome, entry.revision, entry.reason, entry.detail,
    )  # fmt: skip


def shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the API shows it."""
    actor = None if row["actor_id"] is None else {"id": row["actor_id"], "name": row["actor_name"]}
    return {
        "id": row["id"], "at": resources.timestamp(row["at"]), "actor": actor,
        "remote_addr": row["remote_addr"], "user_agent": row["user_agent"],
        "request_id": row["request_id"], "action": row["action"],
        "target": {"kind": row["target_kind"], "id": row["target_id"]},
        "application_id": row["application_id"], "outcome": row["outcome"],
        "revision": row["revision"], "reason": row["reason"], "detail": row["detail"],
    }  # fmt: skip


async def page(
    conn: asyncpg.Connection, where: Filter, below: int, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries with ids below ``below``, newest first."""
    rows = await conn.fetch(
        PAGE, below, where.application_id, where.actor, where.action, where.outcome,
        where.since, where.until, limit,
    )  # fmt: skip
    return [shown(row) for row in rows]


async def prune(conn: asyncpg.Connection, older_than_s: float) -> int:
    """Delete entries older than ``older_than_s``; returns how many went."""
    gone: int = await conn.fetchval(PRUNE, older_than_s)
    return gone
