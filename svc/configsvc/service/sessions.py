"""Signing in and out of the console: each in its own transaction, with its audit entry.

The session's secret is made here and returned once (it becomes the cookie's value); only its
hash reaches the database.
"""

from __future__ import annotations

from typing import Any

from configsvc import errors
from configsvc.auth import sessions, tokens
from configsvc.db import database
from configsvc.service import audit, writing
from configsvc.store import sessions as session_store


async def sign_in(
    db: database.Database, token: tokens.Token, ttl_s: float, write: writing.Write
) -> tuple[str, dict[str, Any]]:
    """(secret, session) for ``token``; the session ends at its TTL or the token's expiry."""
    secret = sessions.new_secret()
    async with db.connection() as conn, conn.transaction():
        session = await session_store.insert(conn, tokens.hash_secret(secret), token.id, ttl_s)
        await audit.record(conn, write, "session.create", "session", session["id"], None)
    return secret, session


async def sign_out(db: database.Database, session_id: str, write: writing.Write) -> None:
    """End the session; ``errors.NotFound`` if it had ended already."""
    async with db.connection() as conn, conn.transaction():
        if not await session_store.delete(conn, session_id):
            raise errors.NotFound("this session has ended already")
        await audit.record(conn, write, "session.delete", "session", session_id, None)
