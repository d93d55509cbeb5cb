"""Console sessions in PostgreSQL: SQL only. Writes run inside service/sessions.py's transaction.

A session is found by the hash of its secret together with its token, in one query: a session
whose token is gone (revoked, hence deleted with its sessions) or expired is no session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from configsvc.store import resources
from configsvc.store import tokens as token_store

INSERT = """
INSERT INTO sessions (id, secret_hash, token_id, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
RETURNING id, expires_at
"""

# The token's columns, prefixed, as store/tokens.py shows them.
BY_HASH = f"""
SELECT s.id AS session_id, s.expires_at AS session_expires_at,
       {", ".join(f"t.{column.strip()}" for column in token_store.COLUMNS.split(","))}
FROM sessions s JOIN tokens t ON t.id = s.token_id
WHERE s.secret_hash = $1 AND s.expires_at > now()
"""

DELETE = "DELETE FROM sessions WHERE id = $1 RETURNING id"

PRUNE = """
WITH gone AS (DELETE FROM sessions WHERE expires_at < now() RETURNING 1)
SELECT count(*) FROM gone
"""


def _resource(session_id: str, expires_at: datetime) -> dict[str, Any]:
    return {"id": session_id, "expires_at": resources.timestamp(expires_at)}


async def insert(
    conn: asyncpg.Connection, secret_hash: bytes, token_id: str, ttl_s: float
) -> dict[str, Any]:
    """A new session of ``token_id`` ending ``ttl_s`` from now: ``{"id", "expires_at"}``."""
    row = await conn.fetchrow(INSERT, resources.new_id(), secret_hash, token_id, ttl_s)
    return _resource(row["id"], row["expires_at"])


async def by_hash(
    conn: asyncpg.Connection, secret_hash: bytes
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(session, token resource) of a live session with this secret's hash, or None."""
    row = await conn.fetchrow(BY_HASH, secret_hash)
    if row is None:
        return None
    session = _resource(row["session_id"], row["session_expires_at"])
    return session, token_store.resource(row)


async def delete(conn: asyncpg.Connection, session_id: str) -> bool:
    """End the session; False if it had ended already."""
    return await conn.fetchrow(DELETE, session_id) is not None


async def prune(conn: asyncpg.Connection) -> int:
    """Drop ended sessions; returns how many."""
    return int(await conn.fetchval(PRUNE))
