"""The sessions' SQL on a real database: found with their token, until they or it end."""

from __future__ import annotations

from configsvc.auth import sessions as auth_sessions
from configsvc.auth import tokens as auth_tokens
from configsvc.store import sessions, tokens


async def _token(conn, **fields: object) -> dict:  # type: ignore[no-untyped-def, type-arg]
    secret_hash = auth_tokens.hash_secret(auth_tokens.new_secret())
    return await tokens.insert(conn, secret_hash, {"name": "person", **fields})


async def test_a_session_is_found_by_its_hash_with_its_token(pooled, db) -> None:
    secret = auth_sessions.new_secret()
    async with pooled.connection() as conn:
        token = await _token(conn, admin=True)
        made = await sessions.insert(conn, auth_tokens.hash_secret(secret), token["id"], 3600)
        found = await sessions.by_hash(conn, auth_tokens.hash_secret(secret))
        assert found == (made, token)
        assert await sessions.by_hash(conn, auth_tokens.hash_secret(secret + "x")) is None
    stored = await db.fetchval("SELECT secret_hash FROM sessions WHERE id = $1", made["id"])
    assert bytes(stored) == auth_tokens.hash_secret(secret)


async def test_ended_sessions_and_those_of_revoked_tokens_are_no_sessions(pooled, db) -> None:
    async with pooled.connection() as conn:
        token = await _token(conn)
        hashes = [auth_tokens.hash_secret(auth_sessions.new_secret()) for _ in range(3)]
        ended = await sessions.insert(conn, hashes[0], token["id"], 60)
        await db.execute("UPDATE sessions SET expires_at = now() WHERE id = $1", ended["id"])
        assert await sessions.by_hash(conn, hashes[0]) is None
        await sessions.insert(conn, hashes[1], token["id"], 60)
        assert await sessions.prune(conn) == 1  # only the ended one
        assert await sessions.delete(conn, ended["id"]) is False
        await tokens.delete(conn, token["id"])
        assert await sessions.by_hash(conn, hashes[1]) is None
    assert await db.fetchval("SELECT count(*) FROM sessions") == 0  # gone with their token
