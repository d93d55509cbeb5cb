"""The tokens' SQL on a real database: lookups by id and hash, pages, NOTIFY at commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from configsvc import errors
from configsvc.auth import tokens as auth_tokens
from configsvc.store import tokens

GRANTS = [{"application_id": "*", "access": "read"}]


async def _insert(conn: asyncpg.Connection, name: str, **fields: object) -> dict[str, Any]:
    secret = auth_tokens.new_secret()
    return await tokens.insert(conn, auth_tokens.hash_secret(secret), {"name": name, **fields})


async def test_a_token_is_found_by_id_and_by_its_secrets_hash_only(pooled, db) -> None:
    secret = auth_tokens.new_secret()
    async with pooled.connection() as conn:
        made = await tokens.insert(conn, auth_tokens.hash_secret(secret), {"name": "ci"})
        assert made["admin"] is False
        assert made["grants"] == []
        assert (made["expires_at"], made["last_used_at"]) == (None, None)
        assert await tokens.get(conn, made["id"]) == made
        assert await tokens.by_hash(conn, auth_tokens.hash_secret(secret)) == made
        assert await tokens.by_hash(conn, auth_tokens.hash_secret(secret + "x")) is None
        with pytest.raises(errors.NotFound, match="no token with id"):
            await tokens.get(conn, "0" * 26)
    assert "secret_hash" not in made
    stored = await db.fetchval("SELECT secret_hash FROM tokens WHERE id = $1", made["id"])
    assert bytes(stored) == auth_tokens.hash_secret(secret)


async def test_pages_are_in_id_order_after_the_cursor(pooled) -> None:
    async with pooled.connection() as conn:
        ids = sorted([(await _insert(conn, f"t{i}"))["id"] for i in range(4)])
        assert [t["id"] for t in await tokens.page(conn, "", 3)] == ids[:3]
        assert [t["id"] for t in await tokens.page(conn, ids[2], 10)] == ids[3:]


async def test_update_replaces_name_grants_and_expiry_and_delete_removes(pooled) -> None:
    expires = datetime(2100, 1, 1, tzinfo=UTC)
    async with pooled.connection() as conn:
        made = await _insert(conn, "old", admin=True)
        updated = await tokens.update(conn, made["id"], "new", GRANTS, expires)
        assert (updated["name"], updated["grants"], updated["admin"]) == ("new", GRANTS, True)
        assert updated["expires_at"] == "2100-01-01T00:00:00Z"
        await tokens.delete(conn, made["id"])
        for write in (tokens.delete(conn, made["id"]),
                      tokens.update(conn, made["id"], "x", [], None)):  # fmt: skip
            with pytest.raises(errors.NotFound):
                await write


async def test_touch_writes_last_use_at_most_once_a_minute(pooled, db) -> None:
    async with pooled.connection() as conn:
        made = await _insert(conn, "t")
        await tokens.touch(conn, [made["id"]])
        first = (await tokens.get(conn, made["id"]))["last_used_at"]
        assert first is not None
        await tokens.touch(conn, [made["id"]])
        assert (await tokens.get(conn, made["id"]))["last_used_at"] == first
    await db.execute("UPDATE tokens SET last_used_at = now() - interval '2 minutes'")
    async with pooled.connection() as conn:
        await tokens.touch(conn, [made["id"]])
        assert (await tokens.get(conn, made["id"]))["last_used_at"] != first


async def test_notify_reaches_listeners_only_at_commit(pooled, db) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    await db.add_listener(tokens.CHANNEL, lambda *args: heard.put_nowait(args[3]))
    async with pooled.connection() as conn, conn.transaction():
        await tokens.notify(conn, "01TOKEN")
        await asyncio.sleep(0.2)
        assert heard.empty(), "not before commit"
    async with asyncio.timeout(10):
        assert await heard.get() == "01TOKEN"


async def test_the_bootstrap_lock_says_whether_an_admin_exists(pooled) -> None:
    async with pooled.connection() as conn, conn.transaction():
        assert await tokens.lock_bootstrap(conn) is False
        await _insert(conn, "reader")
        assert await tokens.lock_bootstrap(conn) is False
        await _insert(conn, "root", admin=True)
        assert await tokens.lock_bootstrap(conn) is True
