"""Versions of applications and configurations: SQL only.

The write path (service/writes.py) records one row per version in the transaction of the change;
the rows outlive the change log and the resource itself, and are pruned by age and count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources

RECORD_CONFIGURATION = """
INSERT INTO configuration_versions (configuration_id, version, application_id, revision, op,
    name, comments, config, actor_id, actor_name, reason, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""

RECORD_APPLICATION = """
INSERT INTO application_versions (application_id, version, revision, op, name, comments,
    actor_id, actor_name, reason, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""

# $2: show versions below this one (a cursor), $3: how many.
CONFIGURATION_PAGE = """
SELECT * FROM configuration_versions
WHERE configuration_id = $1 AND version < $2
ORDER BY version DESC
LIMIT $3
"""

APPLICATION_PAGE = """
SELECT * FROM application_versions
WHERE application_id = $1 AND version < $2
ORDER BY version DESC
LIMIT $3
"""

CONFIGURATION_VERSION = """
SELECT * FROM configuration_versions WHERE configuration_id = $1 AND version = $2
"""

CONFIGURATION_SPAN = """
SELECT min(version) AS oldest, max(version) AS newest
FROM configuration_versions WHERE configuration_id = $1
"""

APPLICATION_SPAN = """
SELECT min(version) AS oldest, max(version) AS newest
FROM application_versions WHERE application_id = $1
"""

# The revision that created the application (no row once pruning took its first version).
APPLICATION_CREATED = """
SELECT revision FROM application_versions
WHERE application_id = $1 AND version = 1 AND op = 'created'
"""

# Per configuration of the application, its newest version at or below revision $2; the ones
# whose newest is a deletion did not exist then.
STATE_AT = """
SELECT v.*, (SELECT min(o.committed_at) FROM configuration_versions o
             WHERE o.configuration_id = v.configuration_id) AS created_at
FROM (
    SELECT DISTINCT ON (configuration_id) *
    FROM configuration_versions
    WHERE application_id = $1 AND revision <= $2
    ORDER BY configuration_id, version DESC
) v
WHERE v.op <> 'deleted'
ORDER BY v.configuration_id
"""

HORIZON = "SELECT history_from, revision FROM revision_counter"

# A configuration's application, deleted configurations included (a configuration never moves).
APPLICATION_OF = """
SELECT application_id FROM configuration_versions
WHERE configuration_id = $1
ORDER BY version DESC
LIMIT 1
"""

# A version goes when it is older than $1 days AND more than $2 versions behind the newest of
# its resource (so the newest is never pruned). The horizon rises to the oldest revision whose
# state can still be rebuilt: for every resource that lost rows, its oldest remaining one.
PRUNE_CONFIGURATIONS = """
WITH gone AS (
    DELETE FROM configuration_versions v
    USING (SELECT configuration_id, max(version) AS newest
           FROM configuration_versions GROUP BY configuration_id) n
    WHERE v.configuration_id = n.configuration_id
      AND v.version < n.newest - $2
      AND v.committed_at < now() - make_interval(secs => $1)
    RETURNING v.configuration_id, v.version
), kept AS (
    -- The CTEs read the table as it was before the DELETE: leave out what it removed.
    SELECT min(k.revision) AS oldest FROM configuration_versions k
    WHERE k.configuration_id IN (SELECT configuration_id FROM gone)
      AND (k.configuration_id, k.version) NOT IN (SELECT configuration_id, version FROM gone)
    GROUP BY k.configuration_id
)
UPDATE revision_counter
SET history_from = greatest(history_from, (SELECT max(oldest) FROM kept))
WHERE EXISTS (SELECT FROM gone)
RETURNING (SELECT count(*) FROM gone)
"""

PRUNE_APPLICATIONS = """
WITH gone AS (
    DELETE FROM application_versions v
    USING (SELECT application_id, max(version) AS newest
           FROM application_versions GROUP BY application_id) n
    WHERE v.application_id = n.application_id
      AND v.version < n.newest - $2
      AND v.committed_at < now() - make_interval(secs => $1)
    RETURNING 1
)
SELECT count(*) FROM gone
"""


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who made a version and why: written with every version row."""

    actor_id: str | None = None
    actor_name: str | None = None
    reason: str | None = None
    request_id: str | None = None


def _actor(row: Mapping[str, Any]) -> dict[str, str] | None:
    if row["actor_id"] is None:
        return None
    return {"id": row["actor_id"], "name": row["actor_name"]}


def version(row: Mapping[str, Any]) -> dict[str, Any]:
    """A version row as the API shows it."""
    shown = {
        "version": row["version"], "revision": row["revision"], "op": row["op"],
        "name": row["name"], "comments": row["comments"], "actor": _actor(row),
        "reason": row["reason"], "request_id": row["request_id"],
        "committed_at": resources.timestamp(row["committed_at"]),
    }  # fmt: skip
    config = row.get("config")  # applications have none
    return shown if config is None else {**shown, "config": config}


def row_number(op: str, resource: Mapping[str, Any]) -> int:
    """The version a row records: a deletion is one past the version that was deleted."""
    return int(resource["version"]) + (1 if op == "deleted" else 0)


async def record_configuration(
    conn: asyncpg.Connection, op: str, resource: Mapping[str, Any], revision: int, stamp: Stamp
) -> None:
    """One configuration version; ``resource`` as the API shows it (as it was, for a deletion)."""
    await conn.execute(
        RECORD_CONFIGURATION, resource["id"], row_number(op, resource),
        resource["application_id"], revision, op, resource["name"], resource["comments"],
        resource["config"], stamp.actor_id, stamp.actor_name, stamp.reason, stamp.request_id,
    )  # fmt: skip


async def record_application(
    conn: asyncpg.Connection, op: str, resource: Mapping[str, Any], revision: int, stamp: Stamp
) -> None:
    """One application version (its name and comments)."""
    await conn.execute(
        RECORD_APPLICATION, resource["id"], row_number(op, resource), revision, op,
        resource["name"], resource["comments"], stamp.actor_id, stamp.actor_name, stamp.reason,
        stamp.request_id,
    )  # fmt: skip


async def configuration_page(
    conn: asyncpg.Connection, config_id: str, below: int, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` versions below ``below``, newest first; NotFound if it never existed."""
    rows = await conn.fetch(CONFIGURATION_PAGE, config_id, below, limit)
    if not rows and (await conn.fetchrow(CONFIGURATION_SPAN, config_id))["newest"] is None:
        raise errors.NotFound(f"no configuration with id {config_id}")
    return [version(row) for row in rows]


async def application_page(
    conn: asyncpg.Connection, app_id: str, below: int, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` versions below ``below``, newest first; NotFound if it never existed."""
    rows = await conn.fetch(APPLICATION_PAGE, app_id, below, limit)
    if not rows and (await conn.fetchrow(APPLICATION_SPAN, app_id))["newest"] is None:
        raise errors.NotFound(f"no application with id {app_id}")
    return [version(row) for row in rows]


async def configuration_version(
    conn: asyncpg.Connection, config_id: str, number: int
) -> dict[str, Any]:
    """One version; Gone once pruned, NotFound if it never existed."""
    row = await conn.fetchrow(CONFIGURATION_VERSION, config_id, number)
    if row is not None:
        return {**version(row), "configuration_id": config_id,
                "application_id": row["application_id"]}  # fmt: skip
    span = await conn.fetchrow(CONFIGURATION_SPAN, config_id)
    if span["newest"] is None:
        raise errors.NotFound(f"no configuration with id {config_id}")
    if number < span["oldest"]:
        raise errors.Gone(f"version {number} of configuration {config_id} has been pruned")
    raise errors.NotFound(f"configuration {config_id} has no version {number}")


async def application_of(conn: asyncpg.Connection, config_id: str) -> str:
    """The configuration's application, even once it is deleted; NotFound if it never existed."""
    app_id: str | None = await conn.fetchval(APPLICATION_OF, config_id)
    if app_id is None:
        raise errors.NotFound(f"no configuration with id {config_id}")
    return app_id


async def newest(conn: asyncpg.Connection, config_id: str) -> int | None:
    """The number of the configuration's newest version (its deletion, if it is deleted)."""
    number: int | None = (await conn.fetchrow(CONFIGURATION_SPAN, config_id))["newest"]
    return number


async def created_revision(conn: asyncpg.Connection, app_id: str) -> int | None:
    """The revision that created the application, while history still keeps it."""
    revision: int | None = await conn.fetchval(APPLICATION_CREATED, app_id)
    return revision


def _as_configuration(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["configuration_id"], "application_id": row["application_id"],
        "name": row["name"], "comments": row["comments"], "config": row["config"],
        "version": row["version"], "revision": row["revision"],
        "created_at": resources.timestamp(row["created_at"]),
        "updated_at": resources.timestamp(row["committed_at"]),
    }  # fmt: skip


async def state_at(
    conn: asyncpg.Connection, app_id: str, revision: int, field: str = "at_revision"
) -> list[dict[str, Any]]:
    """The application's configurations as they were at ``revision``, in id order.

    Invalid (on ``field``) when the revision is above the head or below what history keeps.
    """
    history_from, head = await conn.fetchrow(HORIZON)
    if revision > head or revision < history_from:
        raise errors.Invalid.one(
            field, f"must be from {history_from} (oldest kept) to {head} (the latest)"
        )
    return [_as_configuration(row) for row in await conn.fetch(STATE_AT, app_id, revision)]


async def prune(conn: asyncpg.Connection, older_than_s: float, keep: int) -> int:
    """Drop versions older than ``older_than_s`` and more than ``keep`` behind the newest."""
    async with conn.transaction():
        gone: int | None = await conn.fetchval(PRUNE_CONFIGURATIONS, older_than_s, keep)
        apps: int = await conn.fetchval(PRUNE_APPLICATIONS, older_than_s, keep)
    return (gone or 0) + apps
