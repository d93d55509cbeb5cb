"""Configurations in PostgreSQL: SQL only. Writes run inside service/writes.py's transaction."""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources

# One statement, one snapshot: the row is exactly the state at the revision beside it.
GET = """
SELECT *, (SELECT revision FROM revision_counter) AS at_revision FROM configurations WHERE id = $1
"""

# A page stops early once the configurations before a row hold $4 bytes or more: the rows past
# that are counted by their stored size (pg_column_size: no need to read their JSON) and never
# sent. The first row is always in, however big.
LIST = """
SELECT * FROM (
    SELECT c.*,
           sum(pg_column_size(c.config)) OVER (ORDER BY c.id) AS bytes_through
    FROM configurations c
    WHERE c.application_id = $1 AND c.id > $2
    ORDER BY c.id
    LIMIT $3
) page
WHERE bytes_through - pg_column_size(config) < $4
ORDER BY id
"""

ANY_AFTER = "SELECT EXISTS (SELECT FROM configurations WHERE application_id = $1 AND id > $2)"

ALL_OF_APPLICATION = "SELECT * FROM configurations WHERE application_id = $1 ORDER BY id"

INSERT = """
INSERT INTO configurations (id, application_id, name, comments, config, revision)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *
"""

UPDATE = """
UPDATE configurations
SET name = $2, comments = $3, config = $4, revision = $5, version = version + 1,
    updated_at = now()
WHERE id = $1
RETURNING *
"""

DELETE = "DELETE FROM configurations WHERE id = $1 RETURNING *"

# A deleted configuration back under its old id, at the version after its deletion.
RESTORE = """
INSERT INTO configurations (id, application_id, name, comments, config, revision, version)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *
"""

# Frees a name for the rest of a rollback's transaction (names may swap), before the real
# update of the same row: no version, no revision of its own.
PARK = "UPDATE configurations SET name = id || ' (rolling back)' WHERE id = $1"

# Held to commit: the version a precondition was checked against is the one that is written.
LOCK = "SELECT application_id, version FROM configurations WHERE id = $1 FOR UPDATE"

APPLICATION_EXISTS = "SELECT EXISTS (SELECT FROM applications WHERE id = $1)"


def _taken(name: str) -> errors.Conflict:
    return errors.Conflict(f"this application already has a configuration named {name!r}")


async def get(conn: asyncpg.Connection, config_id: str) -> dict[str, Any]:
    return (await get_at(conn, config_id))[0]


async def get_at(conn: asyncpg.Connection, config_id: str) -> tuple[dict[str, Any], int]:
    """The configuration, and the revision it is current at."""
    row = await conn.fetchrow(GET, config_id)
    if row is None:
        raise errors.NotFound(f"no configuration with id {config_id}")
    return resources.configuration(row), row["at_revision"]


async def page(
    conn: asyncpg.Connection, app_id: str, after: str, limit: int, max_bytes: int
) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``limit`` of the application's configurations with ids above ``after``, fewer
    once they hold ``max_bytes``; and whether any come after them."""
    rows = await conn.fetch(LIST, app_id, after, limit + 1, max_bytes)
    if not rows and not await conn.fetchval(APPLICATION_EXISTS, app_id):
        raise errors.NotFound(f"no application with id {app_id}")
    more = len(rows) > limit
    rows = rows[:limit]
    if not more and rows and rows[-1]["bytes_through"] >= max_bytes:
        more = await conn.fetchval(ANY_AFTER, app_id, rows[-1]["id"])
    return [resources.configuration(row) for row in rows], more


async def all_of(conn: asyncpg.Connection, app_id: str) -> list[dict[str, Any]]:
    return [resources.configuration(row) for row in await conn.fetch(ALL_OF_APPLICATION, app_id)]


async def lock(conn: asyncpg.Connection, config_id: str) -> tuple[str, int] | None:
    """(application id, version), locked until the transaction ends; None if there is none."""
    row = await conn.fetchrow(LOCK, config_id)
    return None if row is None else (row["application_id"], row["version"])


async def insert(
    conn: asyncpg.Connection,
    app_id: str,
    fields: dict[str, Any],
    revision: int,
) -> dict[str, Any]:
    """A new configuration from ``fields`` (name, comments, config) under ``app_id``."""
    name = fields["name"]
    try:
        row = await conn.fetchrow(
            INSERT, resources.new_id(), app_id, name, fields["comments"], fields["config"],
            revision,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise _taken(name) from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise errors.Invalid.one("application_id", f"no application with id {app_id}") from exc
    return resources.configuration(row)


async def update(
    conn: asyncpg.Connection, config_id: str, fields: dict[str, Any], revision: int
) -> dict[str, Any]:
    """Replace name, comments and config of a configuration the caller has locked."""
    try:
        row = await conn.fetchrow(
            UPDATE, config_id, fields["name"], fields["comments"], fields["config"], revision
        )
    except asyncpg.UniqueViolationError as exc:
        raise _taken(fields["name"]) from exc
    return resources.configuration(row)


async def delete(conn: asyncpg.Connection, config_id: str) -> dict[str, Any]:
    """Delete a locked configuration."""
    return resources.configuration(await conn.fetchrow(DELETE, config_id))


async def restore(
    conn: asyncpg.Connection, config_id: str, app_id: str, fields: dict[str, Any],
    version: int, revision: int,
) -> dict[str, Any]:  # fmt: skip
    """Bring back a deleted configuration with its id; its application must still exist."""
    name = fields["name"]
    try:
        row = await conn.fetchrow(
            RESTORE, config_id, app_id, name, fields["comments"], fields["config"], revision,
            version,
        )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise _taken(name) from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise errors.Invalid.one(
            "application_id", f"application {app_id} no longer exists; restore it first"
        ) from exc
    return resources.configuration(row)


async def park(conn: asyncpg.Connection, config_id: str) -> None:
    """Move a locked configuration's name out of the way within the current transaction."""
    await conn.execute(PARK, config_id)
