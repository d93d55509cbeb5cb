"""Configurations in PostgreSQL. Every write also logs the change (see changes.py)."""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import changes, resources

GET = "SELECT * FROM configurations WHERE id = $1"

LIST = """
SELECT * FROM configurations
WHERE application_id = $1 AND id > $2
ORDER BY id
LIMIT $3
"""

ALL_OF_APPLICATION = "SELECT * FROM configurations WHERE application_id = $1 ORDER BY id"

INSERT = """
INSERT INTO configurations (id, application_id, name, comments, config, revision)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *
"""

# $5: the version the client last saw (If-Match), or NULL to replace whatever is there.
REPLACE = """
UPDATE configurations
SET name = $2, comments = $3, config = $4, revision = $6, version = version + 1,
    updated_at = now()
WHERE id = $1 AND ($5::int IS NULL OR version = $5)
RETURNING *
"""

DELETE = """
DELETE FROM configurations
WHERE id = $1 AND ($2::int IS NULL OR version = $2)
RETURNING *
"""

APPLICATION_OF = "SELECT application_id FROM configurations WHERE id = $1"
APPLICATION_EXISTS = "SELECT EXISTS (SELECT FROM applications WHERE id = $1)"


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(f"this application already has a configuration named {name!r}")


async def _missing_or_stale(conn: asyncpg.Connection, config_id: str) -> errors.ServiceError:
    if await conn.fetchval(APPLICATION_OF, config_id) is None:
        return errors.NotFound(f"no configuration with id {config_id}")
    return errors.PreconditionFailed(f"configuration {config_id} has changed since that version")


async def get(conn: asyncpg.Connection, config_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET, config_id)
    if row is None:
        raise errors.NotFound(f"no configuration with id {config_id}")
    return resources.configuration(row)


async def page(
    conn: asyncpg.Connection, app_id: str, after: str, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` of the application's configurations with ids above ``after``."""
    rows = await conn.fetch(LIST, app_id, after, limit)
    if not rows and not await conn.fetchval(APPLICATION_EXISTS, app_id):
        raise errors.NotFound(f"no application with id {app_id}")
    return [resources.configuration(row) for row in rows]


async def all_of(conn: asyncpg.Connection, app_id: str) -> list[dict[str, Any]]:
    return [resources.configuration(row) for row in await conn.fetch(ALL_OF_APPLICATION, app_id)]


async def create(
    conn: asyncpg.Connection, app_id: str, name: str, comments: str, config: dict[str, Any]
) -> dict[str, Any]:
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        try:
            row = await conn.fetchrow(
                INSERT, resources.new_id(), app_id, name, comments, config, revision
            )
        except asyncpg.UniqueViolationError as exc:
            raise _taken(name) from exc
        except asyncpg.ForeignKeyViolationError as exc:
            raise errors.Invalid.one("application_id", f"no application with id {app_id}") from exc
        resource = resources.configuration(row)
        await changes.record(
            conn, revision, "created", resource, application_id=app_id,
            configuration_id=resource["id"],
        )  # fmt: skip
    return resource


async def replace(
    conn: asyncpg.Connection,
    config_id: str,
    fields: dict[str, Any],
    if_version: int | None,
) -> dict[str, Any]:
    """Replace name, comments and config; ``fields["application_id"]``, if set, must match."""
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        try:
            row = await conn.fetchrow(
                REPLACE, config_id, fields["name"], fields["comments"], fields["config"],
                if_version, revision,
            )  # fmt: skip
        except asyncpg.UniqueViolationError as exc:
            raise _taken(fields["name"]) from exc
        if row is None:
            raise await _missing_or_stale(conn, config_id)
        wanted = fields.get("application_id")
        if wanted is not None and wanted != row["application_id"]:
            # Rolls the update back: a configuration never moves to another application.
            raise errors.Invalid.one(
                "application_id", f"must be {row['application_id']}, the current application"
            )
        resource = resources.configuration(row)
        await changes.record(
            conn, revision, "updated", resource, application_id=row["application_id"],
            configuration_id=config_id,
        )  # fmt: skip
    return resource


async def delete(conn: asyncpg.Connection, config_id: str, if_version: int | None) -> None:
    async with conn.transaction():
        revision = await changes.next_revision(conn)
        row = await conn.fetchrow(DELETE, config_id, if_version)
        if row is None:
            raise await _missing_or_stale(conn, config_id)
        gone = {**resources.configuration(row), "revision": revision}
        await changes.record(
            conn, revision, "deleted", gone, application_id=row["application_id"],
            configuration_id=config_id,
        )  # fmt: skip
