"""Access tokens in PostgreSQL: SQL only. Writes run inside service/tokens.py's transaction.

Every token write NOTIFYs :data:`CHANNEL` with the token's id, effective at commit: each
worker's listener then drops that token from its cache and re-checks the sockets it opened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.store import resources

CHANNEL = "configsvc_tokens"

COLUMNS = "id, name, admin, grants, created_at, expires_at, last_used_at"

GET = f"SELECT {COLUMNS} FROM tokens WHERE id = $1"

BY_HASH = f"SELECT {COLUMNS} FROM tokens WHERE secret_hash = $1"

LIST = f"SELECT {COLUMNS} FROM tokens WHERE id > $1 ORDER BY id LIMIT $2"

INSERT = f"""
INSERT INTO tokens (id, name, secret_hash, admin, grants, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {COLUMNS}
"""

UPDATE = f"""
UPDATE tokens SET name = $2, grants = $3, expires_at = $4
WHERE id = $1
RETURNING {COLUMNS}
"""

DELETE = f"DELETE FROM tokens WHERE id = $1 RETURNING {COLUMNS}"

NOTIFY = "SELECT pg_notify($1, $2)"

# Written at most once a minute per token, whatever the number of workers and requests.
TOUCH = """
UPDATE tokens SET last_used_at = now()
WHERE id = ANY($1::text[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
"""

# Serialises bootstrapping workers: the check and the insert happen under one lock.
BOOTSTRAP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('configsvc bootstrap admin token'))"

ANY_ADMIN = "SELECT EXISTS (SELECT FROM tokens WHERE admin)"


def resource(row: asyncpg.Record) -> dict[str, Any]:
    """A token as the API shows it (the secret's hash stays here)."""
    expires = row["expires_at"]
    used = row["last_used_at"]
    return {
        "id": row["id"],
        "name": row["name"],
        "admin": row["admin"],
        "grants": row["grants"],
        "created_at": resources.timestamp(row["created_at"]),
        "expires_at": None if expires is None else resources.timestamp(expires),
        "last_used_at": None if used is None else resources.timestamp(used),
    }


async def get(conn: asyncpg.Connection, token_id: str) -> dict[str, Any]:
    row = await conn.fetchrow(GET, token_id)
    if row is None:
        raise errors.NotFound(f"no token with id {token_id}")
    return resource(row)


async def by_hash(conn: asyncpg.Connection, secret_hash: bytes) -> dict[str, Any] | None:
    """The token whose secret hashes to ``secret_hash``, or None."""
    row = await conn.fetchrow(BY_HASH, secret_hash)
    return None if row is None else resource(row)


async def page(conn: asyncpg.Connection, after: str, limit: int) -> list[dict[str, Any]]:
    return [resource(row) for row in await conn.fetch(LIST, after, limit)]


async def insert(
    conn: asyncpg.Connection, secret_hash: bytes, fields: dict[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(
        INSERT, resources.new_id(), fields["name"], secret_hash, fields.get("admin", False),
        fields.get("grants", []), fields.get("expires_at"),
    )  # fmt: skip
    return resource(row)


async def update(
    conn: asyncpg.Connection, token_id: str, name: str, grants: list[dict[str, str]],
    expires_at: datetime | None,
) -> dict[str, Any]:  # fmt: skip
    row = await conn.fetchrow(UPDATE, token_id, name, grants, expires_at)
    if row is None:
        raise errors.NotFound(f"no token with id {token_id}")
    return resource(row)


async def delete(conn: asyncpg.Connection, token_id: str) -> None:
    if await conn.fetchrow(DELETE, token_id) is None:
        raise errors.NotFound(f"no token with id {token_id}")


async def notify(conn: asyncpg.Connection, token_id: str) -> None:
    """Tell every worker (at commit) that this token changed."""
    await conn.execute(NOTIFY, CHANNEL, token_id)


async def touch(conn: asyncpg.Connection, token_ids: list[str]) -> None:
    await conn.execute(TOUCH, token_ids)


async def lock_bootstrap(conn: asyncpg.Connection) -> bool:
    """Take the bootstrap lock (to commit); True if an admin token exists already."""
    await conn.execute(BOOTSTRAP_LOCK)
    return bool(await conn.fetchval(ANY_ADMIN))
