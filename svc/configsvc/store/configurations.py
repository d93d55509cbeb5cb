"""Configurations in PostgreSQL: SQL only. Writes run inside service/writes.py's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from configsvc_contract import exactjson

from configsvc import errors
from configsvc.store import resources

# One statement, one snapshot: the row is exactly the state at the revision beside it.
GET = """
SELECT *, (SELECT revision FROM revision_counter) AS at_revision FROM configurations WHERE id = $1
"""

# The most bytes a configuration can take in a page: its variable members as PostgreSQL writes
# them in JSON (jsonb's text is the compact JSON the API sends, with spaces added), and $5 for
# the members of bounded width. Counted on the text, not pg_column_size: that is the stored,
# compressed size, a fraction of what is sent for a configuration that compresses well.
_SIZE = """(octet_length(c.config::text) + octet_length(to_jsonb(c.name)::text)
          + octet_length(to_jsonb(c.comments)::text)
          + coalesce(octet_length(c.schema_errors::text), 2) + $5)::bigint"""

# A page: the configurations in id order whose sizes through them add up to at most $4 bytes
# (the first is always in, however big), and at most $3 of them. The walk takes them one by
# one, so what is measured past the page is one row; ``walked`` says whether one came after.
LIST = f"""
WITH RECURSIVE walk (id, n, bytes_through) AS (
    (SELECT c.id, 1, {_SIZE} FROM configurations c
     WHERE c.application_id = $1 AND c.id > $2
     ORDER BY c.id LIMIT 1)
    UNION ALL
    SELECT next.id, walk.n + 1, walk.bytes_through + next.size
    FROM walk CROSS JOIN LATERAL (
        SELECT c.id, {_SIZE} AS size FROM configurations c
        WHERE c.application_id = $1 AND c.id > walk.id
        ORDER BY c.id LIMIT 1
    ) next
    WHERE walk.n < $3 AND (walk.n = 1 OR walk.bytes_through <= $4)
)
SELECT c.*, (SELECT max(n) FROM walk) AS walked
FROM walk JOIN configurations c USING (id)
WHERE walk.n = 1 OR walk.bytes_through <= $4
ORDER BY c.id
"""

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


def _widest_fixed() -> tuple[int, int]:
    """The bytes of a page item's members of bounded width (and the comma after it), and of
    the page around its items (with the longest cursor): what _SIZE does not measure."""
    moment = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    widest = {
        "id": "0" * 26, "application_id": "0" * 26, "name": "", "comments": "", "config": {},
        "version": 2**31 - 1, "revision": 2**63 - 1, "created_at": moment, "updated_at": moment,
        "schema_status": "invalid", "schema_errors": [],
    }  # fmt: skip
    item = len(exactjson.dumps(resources.configuration(widest)).encode()) - len('""""{}[]')
    envelope = len(exactjson.dumps({"items": [], "next_cursor": "0" * 36}))
    return item + len(","), envelope


_ITEM_FIXED, _ENVELOPE = _widest_fixed()


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
    once the page's JSON would be over ``max_bytes`` (one alone may be); and whether any come
    after them."""
    budget = max_bytes - _ENVELOPE
    rows = await conn.fetch(LIST, app_id, after, limit + 1, budget, _ITEM_FIXED)
    if not rows and not await conn.fetchval(APPLICATION_EXISTS, app_id):
        raise errors.NotFound(f"no application with id {app_id}")
    walked = rows[0]["walked"] if rows else 0
    rows = rows[:limit]
    # One more row than asked for was walked, or one that did not fit: there is a next page.
    return [resources.configuration(row) for row in rows], walked > len(rows)


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
