"""JSON Schemas of applications (migrations/0007_schemas.sql): SQL only.

Writes run inside service/writes.py's transaction; the schema of a configuration is read there
too, under the application's row lock (see :data:`FOR_CONFIGURATION`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources, versions

DEFAULT = "*"

# The schema that covers configuration $2 of application $1: its own, else the default `*`.
# FOR SHARE on the application row orders this read against schema changes, which lock that row
# FOR UPDATE: a configuration is checked against the schema that is current when it commits.
# (Every write also holds the revision counter's row lock, so this is a second, local guard.)
FOR_CONFIGURATION = """
SELECT s.id, s.version
FROM applications a
LEFT JOIN LATERAL (
    SELECT id, version FROM schemas
    WHERE application_id = a.id AND name IN ($2, '*')
    ORDER BY name = '*'
    LIMIT 1
) s ON true
WHERE a.id = $1
FOR SHARE OF a
"""

BODY = "SELECT schema FROM schemas WHERE id = $1 AND version = $2"

GET = "SELECT * FROM schemas WHERE application_id = $1 AND name = $2"

ALL_OF_APPLICATION = "SELECT * FROM schemas WHERE application_id = $1 ORDER BY name"

LIST = """
SELECT * FROM schemas WHERE application_id = $1 AND id > $2 ORDER BY id LIMIT $3
"""

LOCK = "SELECT * FROM schemas WHERE application_id = $1 AND name = $2 FOR UPDATE"

INSERT = """
INSERT INTO schemas (id, application_id, name, schema, revision, version)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *
"""

# A name put again after a deletion keeps its id and goes on from its deletion's version: one
# history per name.
PREVIOUS = """
SELECT schema_id, version FROM schema_versions
WHERE application_id = $1 AND name = $2
ORDER BY revision DESC
LIMIT 1
"""

UPDATE = """
UPDATE schemas SET schema = $2, revision = $3, version = version + 1, updated_at = now()
WHERE id = $1
RETURNING *
"""

DELETE = "DELETE FROM schemas WHERE id = $1 RETURNING *"

# Only the standing changes: not the configuration, its version, revision or updated_at.
SET_STATUS = """
UPDATE configurations SET schema_status = $2, schema_errors = $3 WHERE id = $1
"""

RECORD = """
INSERT INTO schema_versions (schema_id, version, application_id, name, revision, op, schema,
    actor_id, actor_name, reason, request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""

VERSIONS = """
SELECT * FROM schema_versions
WHERE application_id = $1 AND name = $2 AND version < $3
ORDER BY version DESC
LIMIT $4
"""

# A version goes when it is older than $1 seconds AND more than $2 versions behind the newest.
PRUNE = """
WITH gone AS (
    DELETE FROM schema_versions v
    USING (SELECT schema_id, max(version) AS newest FROM schema_versions GROUP BY schema_id) n
    WHERE v.schema_id = n.schema_id
      AND v.version < n.newest - $2
      AND v.committed_at < now() - make_interval(secs => $1)
    RETURNING 1
)
SELECT count(*) FROM gone
"""


def schema(row: Mapping[str, Any]) -> dict[str, Any]:
    """A schema row as the API shows it."""
    return {
        "id": row["id"], "application_id": row["application_id"], "name": row["name"],
        "schema": row["schema"], "version": row["version"], "revision": row["revision"],
        "created_at": resources.timestamp(row["created_at"]),
        "updated_at": resources.timestamp(row["updated_at"]),
    }  # fmt: skip


async def for_configuration(
    conn: asyncpg.Connection, app_id: str, name: str
) -> tuple[str, int] | None:
    """(id, version) of the schema covering configuration ``name``, the application row held
    FOR SHARE to commit; None without one; NotFound without the application."""
    row = await conn.fetchrow(FOR_CONFIGURATION, app_id, name)
    if row is None:
        raise errors.NotFound(f"no application with id {app_id}")
    return None if row["id"] is None else (row["id"], row["version"])


async def body(conn: asyncpg.Connection, schema_id: str, version: int) -> dict[str, Any]:
    """The JSON of one schema version, as stored now (the caller holds its lock)."""
    found: dict[str, Any] = await conn.fetchval(BODY, schema_id, version)
    return found


async def get(conn: asyncpg.Connection, app_id: str, name: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET, app_id, name)
    if row is None:
        raise errors.NotFound(f"application {app_id} has no schema named {name!r}")
    return schema(row)


async def all_of(conn: asyncpg.Connection, app_id: str) -> dict[str, dict[str, Any]]:
    """The application's schemas by name."""
    return {row["name"]: schema(row) for row in await conn.fetch(ALL_OF_APPLICATION, app_id)}


async def page(
    conn: asyncpg.Connection, app_id: str, after: str, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` schemas with ids above ``after``, in id order."""
    return [schema(row) for row in await conn.fetch(LIST, app_id, after, limit)]


async def lock(conn: asyncpg.Connection, app_id: str, name: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(LOCK, app_id, name)
    return None if row is None else schema(row)


async def insert(
    conn: asyncpg.Connection, app_id: str, name: str, body: dict[str, Any], revision: int
) -> dict[str, Any]:
    """A new schema; a name that had one before goes on with its id and history."""
    previous = await conn.fetchrow(PREVIOUS, app_id, name)
    schema_id, version = (
        (resources.new_id(), 1)
        if previous is None
        else (previous["schema_id"], previous["version"] + 1)
    )
    row = await conn.fetchrow(INSERT, schema_id, app_id, name, body, revision, version)
    return schema(row)


async def update(
    conn: asyncpg.Connection, schema_id: str, body: dict[str, Any], revision: int
) -> dict[str, Any]:
    return schema(await conn.fetchrow(UPDATE, schema_id, body, revision))


async def delete(conn: asyncpg.Connection, schema_id: str) -> dict[str, Any]:
    return schema(await conn.fetchrow(DELETE, schema_id))


async def set_status(
    conn: asyncpg.Connection, rows: Sequence[tuple[str, str, list[dict[str, Any]] | None]]
) -> None:
    """(configuration id, status, errors) for each configuration whose standing changed."""
    await conn.executemany(SET_STATUS, rows)


async def record(
    conn: asyncpg.Connection, op: str, resource: Mapping[str, Any], revision: int,
    stamp: versions.Stamp,
) -> None:  # fmt: skip
    """One schema version (a deletion is one past the version deleted)."""
    await conn.execute(
        RECORD, resource["id"], versions.row_number(op, resource), resource["application_id"],
        resource["name"], revision, op, resource["schema"], stamp.actor_id, stamp.actor_name,
        stamp.reason, stamp.request_id,
    )  # fmt: skip


def _version(row: Mapping[str, Any]) -> dict[str, Any]:
    shown = versions.version({**row, "comments": ""})
    del shown["comments"]
    return {**shown, "schema_id": row["schema_id"], "schema": row["schema"]}


async def versions_page(
    conn: asyncpg.Connection, app_id: str, name: str, below: int, limit: int
) -> list[dict[str, Any]]:
    """Versions of the schema by that name, newest first, deletions included."""
    rows = await conn.fetch(VERSIONS, app_id, name, below, limit)
    return [_version(row) for row in rows]


async def prune(conn: asyncpg.Connection, older_than_s: float, keep: int) -> int:
    gone: int = await conn.fetchval(PRUNE, older_than_s, keep)
    return gone
