"""Applications in PostgreSQL: SQL only. Writes run inside service/writes.py's transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources

# One statement, one snapshot: the row is exactly the state at the revision beside it.
GET = """
SELECT a.*, ARRAY(
    SELECT c.id FROM configurations c WHERE c.application_id = a.id ORDER BY c.id
) AS configuration_ids, (SELECT revision FROM revision_counter) AS at_revision
FROM applications a
WHERE a.id = $1
"""

GET_BY_NAME = "SELECT * FROM applications WHERE name = $1"

# $1: the id to start after ('' for the first page); $2: an exact name, or NULL for any;
# $4: the ids the caller may read, or NULL for all.
LIST = """
SELECT * FROM applications
WHERE id > $1 AND ($2::text IS NULL OR name = $2) AND ($4::text[] IS NULL OR id = ANY($4))
ORDER BY id
LIMIT $3
"""

INSERT = """
INSERT INTO applications (id, name, comments, revision)
VALUES ($1, $2, $3, $4)
RETURNING *
"""

UPDATE = """
UPDATE applications
SET name = $2, comments = $3, revision = $4, version = version + 1, updated_at = now()
WHERE id = $1
RETURNING *
"""

DELETE = "DELETE FROM applications WHERE id = $1 RETURNING *"

# Held to commit: the version a precondition was checked against is the one that is written.
LOCK = "SELECT version FROM applications WHERE id = $1 FOR UPDATE"

EXISTS = "SELECT version FROM applications WHERE id = $1"


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(f"an application named {name!r} already exists")


async def get(conn: asyncpg.Connection, app_id: str) -> dict[str, Any]:
    """The application with the ids of its configurations."""
    return (await get_at(conn, app_id))[0]


async def get_at(conn: asyncpg.Connection, app_id: str) -> tuple[dict[str, Any], int]:
    """The application with the ids of its configurations, and the revision it is current at."""
    row = await conn.fetchrow(GET, app_id)
    if row is None:
        raise errors.NotFound(f"no application with id {app_id}")
    app = {**resources.application(row), "configuration_ids": row["configuration_ids"]}
    return app, row["at_revision"]


async def require(conn: asyncpg.Connection, app_id: str) -> None:
    """NotFound unless the application exists (without gathering its configuration ids)."""
    if await conn.fetchval(EXISTS, app_id) is None:
        raise errors.NotFound(f"no application with id {app_id}")


async def get_by_name(conn: asyncpg.Connection, name: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET_BY_NAME, name)
    if row is None:
        raise errors.NotFound(f"no application named {name!r}")
    return resources.application(row)


async def page(
    conn: asyncpg.Connection, after: str, limit: int, name: str | None,
    only: list[str] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Up to ``limit`` applications with ids above ``after``, in id order (among ``only``)."""
    rows = await conn.fetch(LIST, after, name, limit, only)
    return [resources.application(row) for row in rows]


async def lock(conn: asyncpg.Connection, app_id: str) -> int | None:
    """The application's version, locked until the transaction ends; None if there is none."""
    version: int | None = await conn.fetchval(LOCK, app_id)
    return version


async def insert(
    conn: asyncpg.Connection, name: str, comments: str, revision: int
) -> dict[str, Any]:
    try:
        row = await conn.fetchrow(INSERT, resources.new_id(), name, comments, revision)
    except asyncpg.UniqueViolationError as exc:
        raise _taken(name) from exc
    return resources.application(row)


async def update(
    conn: asyncpg.Connection, app_id: str, name: str, comments: str, revision: int
) -> dict[str, Any]:
    """Replace name and comments of an application the caller has locked."""
    try:
        row = await conn.fetchrow(UPDATE, app_id, name, comments, revision)
    except asyncpg.UniqueViolationError as exc:
        raise _taken(name) from exc
    return resources.application(row)


async def delete(conn: asyncpg.Connection, app_id: str) -> dict[str, Any]:
    """Delete a locked application; its configurations go with it (ON DELETE CASCADE)."""
    return resources.application(await conn.fetchrow(DELETE, app_id))
