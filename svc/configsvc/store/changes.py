"""The change log: global, commit-ordered revisions and what changed at each.

A write calls :func:`next_revision` first thing in its transaction and :func:`record` last.
The counter's row lock, held to commit, is what orders commits by revision (see
migrations/0002_change_log.sql); :func:`record` NOTIFYs the listeners, who then read the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

CHANNEL = "configsvc_changes"

NEXT_REVISION = "UPDATE revision_counter SET revision = revision + 1 RETURNING revision"

RECORD = """
INSERT INTO changes (revision, application_id, configuration_id, op, resource, reason,
                     request_id, actor_id, actor_name)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
# The wake-up, one per commit however many changes it holds (see service/writes.py): its
# payload names the newest revision only; the log says what changed.
NOTIFY = "SELECT pg_notify($1, json_build_object('revision', $2::bigint)::text)"

# The resource is read as text: the feed sends it on as it is, without decoding it here.
AFTER = """
SELECT revision, application_id, op, resource::text AS resource, reason, request_id,
       actor_id, actor_name, committed_at, entry_id::text AS entry_id
FROM changes
WHERE revision > $1
ORDER BY revision
LIMIT $2
"""

AFTER_FOR_APPLICATION = """
SELECT revision, application_id, op, resource::text AS resource, reason, request_id,
       actor_id, actor_name, entry_id::text AS entry_id
FROM changes
WHERE application_id = $1 AND revision > $2 AND revision <= $3
ORDER BY revision
LIMIT $4
"""

COUNTER = "SELECT revision, pruned_through FROM revision_counter"
IDENTITY = "SELECT entry_id::text FROM changes WHERE revision = $1"
# The revision the next write would commit at, read without the counter's row lock.
PEEK_REVISION = "SELECT revision + 1 FROM revision_counter"

PRUNE = """
WITH gone AS (
    DELETE FROM changes WHERE committed_at < now() - make_interval(secs => $1)
    RETURNING revision
)
UPDATE revision_counter
SET pruned_through = greatest(pruned_through, (SELECT max(revision) FROM gone))
WHERE EXISTS (SELECT FROM gone)
RETURNING pruned_through
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One committed change; ``resource`` is the JSON text of the resource after it (for
    ``rolled_back``, of ``{"configurations": [...], "deleted": [...]}``)."""

    revision: int
    application_id: str
    op: str
    resource: str
    reason: str | None = None
    request_id: str | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    committed_at: datetime | None = None  # read by the listener, for the propagation time
    entry_id: str | None = None  # this entry's identity (see migrations/0009_history_identity)


async def next_revision(conn: asyncpg.Connection) -> int:
    revision: int = await conn.fetchval(NEXT_REVISION)
    return revision


async def peek_revision(conn: asyncpg.Connection) -> int:
    """What :func:`next_revision` would return now, without taking (or waiting for) the lock:
    for dry runs, which commit nothing and so must not queue behind the writes that do."""
    revision: int = await conn.fetchval(PEEK_REVISION)
    return revision


async def record(
    conn: asyncpg.Connection,
    revision: int,
    op: str,
    resource: dict[str, Any],
    *,
    application_id: str,
    configuration_id: str | None = None,
    reason: str | None = None,
    request_id: str | None = None,
    actor: tuple[str, str] | None = None,
) -> None:
    """Log the change; it takes effect when the caller commits, and the listeners read it
    after the commit's :func:`notify`.

    ``reason``, ``request_id`` and ``actor`` (the (id, name) of the token that made it) travel
    with the change to the feed's ``change`` frame.
    """
    actor_id, actor_name = actor or (None, None)
    await conn.execute(
        RECORD, revision, application_id, configuration_id, op, resource, reason, request_id,
        actor_id, actor_name,
    )  # fmt: skip


async def notify(conn: asyncpg.Connection, revision: int) -> None:
    """Wake every listener when the caller commits: the log has entries up to ``revision``."""
    await conn.execute(NOTIFY, CHANNEL, revision)


async def after(conn: asyncpg.Connection, revision: int, limit: int = 1000) -> list[Entry]:
    """Committed changes with a revision above ``revision``, oldest first."""
    rows = await conn.fetch(AFTER, revision, limit)
    return [Entry(**row) for row in rows]


async def identity(conn: asyncpg.Connection, revision: int) -> str | None:
    """The identity of the entry at ``revision``; None if there is none (pruned, never
    logged, or from a history this database does not hold)."""
    found: str | None = await conn.fetchval(IDENTITY, revision)
    return found


async def after_for_application(
    conn: asyncpg.Connection, application_id: str, since: int, until: int, limit: int = 1000
) -> list[Entry]:
    """One application's changes in (since, until], oldest first."""
    rows = await conn.fetch(AFTER_FOR_APPLICATION, application_id, since, until, limit)
    return [Entry(**row) for row in rows]


async def counter(conn: asyncpg.Connection) -> tuple[int, int]:
    """(latest committed revision, highest revision pruned from the log)."""
    row = await conn.fetchrow(COUNTER)
    return row["revision"], row["pruned_through"]


async def prune(conn: asyncpg.Connection, older_than_s: float) -> int | None:
    """Delete log entries older than ``older_than_s``; returns the new pruned-through mark."""
    pruned: int | None = await conn.fetchval(PRUNE, older_than_s)
    return pruned
