"""Applications in PostgreSQL. Every write also logs the change (see changes.py)."""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import changes, resources

GET = """
SELECT a.*, ARRAY(
    SELECT c.id FROM configurations c WHERE c.application_id = a.id ORDER BY c.id
) AS configuration_ids
FROM applications a
WHERE a.id = $1
"""

GET_BY_NAME = "SELECT * FROM applications WHERE name = $1"

# $2: the id to start after ('' for the first page); $3: an exact name, or NULL for any.
LIST = """
SELECT * FROM applications
WHERE id > $1 AND ($2::text IS NULL OR name = $2)
ORDER BY id
LIMIT $3
"""

INSERT = """
INSERT INTO applications (id, name, comments, revision)
VALUES ($1, $2, $3, $4)
RETURNING *
"""

# $4: the version the client last saw (If-Match), or NULL to replace whatever is there.
REPLACE = """
UPDATE applications
SET name = $2, comments = $3, revision = $5, version = version + 1, updated_at = now()
WHERE id = $1 AND ($4::int IS NULL OR version = $4)
RETURNING *
"""

DELETE = """
DELETE FROM applications
WHERE id = $1 AND ($2::int IS NULL OR version = $2)
RETURNING *
"""

EXISTS = "SELECT version FROM applications WHERE id = $1"


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(f"an application named {name!r} already exists")


async def _missing_or_stale(conn: asyncpg.Connection, app_id: str) -> errors.ServiceError:
    """Why a conditional write matched no row: the application is gone, or has moved on."""
    if await conn.fetchval(EXISTS, app_id) is None:
        return errors.NotFound(f"no application with id {app_id}")
    return errors.PreconditionFailed(f"application {app_id} has changed since that version")


async def get(conn: asyncpg.Connection, app_id: str) -> dict[str, Any]:
    """The application with the ids of its configurations."""
    row = await conn.fetchrow(GET, app_id)
    if row is None:
        raise errors.NotFound(f"no application with id {app_id}")
    return {**resources.application(row), "configuration_ids": row["configuration_ids"]}


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
    conn: asyncpg.Connection, after: str, limit: int, name: str | None
) -> list[dict[str, Any]]:
    """Up to ``limit`` applications with ids above ``after``, in id order."""
    return [resources.application(row) for row in await conn.fetch(LIST, after, name, limit)]


async def create(conn: asyncpg.Connection, name: str, comments: str) -> dict[str, Any]:
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        try:
            row = await conn.fetchrow(INSERT, resources.new_id(), name, comments, revision)
        except asyncpg.UniqueViolationError as exc:
            raise _taken(name) from exc
        app = resources.application(row)
        await changes.record(conn, revision, "application_created", app, application_id=app["id"])
    return app


async def replace(
    conn: asyncpg.Connection, app_id: str, name: str, comments: str, if_version: int | None
) -> dict[str, Any]:
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        try:
            row = await conn.fetchrow(REPLACE, app_id, name, comments, if_version, revision)
        except asyncpg.UniqueViolationError as exc:
            raise _taken(name) from exc
        if row is None:
            raise await _missing_or_stale(conn, app_id)
        app = resources.application(row)
        await changes.record(conn, revision, "application_updated", app, application_id=app_id)
    return app


async def delete(conn: asyncpg.Connection, app_id: str, if_version: int | None) -> None:
    """Delete the application; its configurations go with it (ON DELETE CASCADE)."""
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        row = await conn.fetchrow(DELETE, app_id, if_version)
        if row is None:
            raise await _missing_or_stale(conn, app_id)
        gone = {**resources.application(row), "revision": revision}
        await changes.record(conn, revision, "application_deleted", gone, application_id=app_id)
