"""The token cache: one query per new secret, garbage cached negatively and bounded,
everything forgotten when told."""

from __future__ import annotations

import asyncio

from configsvc.auth import cache, tokens
from configsvc.service import tokens as token_service


async def test_a_secret_costs_one_query_then_none(pooled) -> None:
    created = await token_service.create(pooled, {"name": "t", "admin": True})
    secret_hash = tokens.hash_secret(created["token"])
    keep = cache.TokenCache()
    keep.following()
    assert keep.cached(secret_hash) == (False, None)
    async with pooled.connection() as conn:
        token = await keep.load(conn, secret_hash)
    assert token is not None
    assert token.id == created["id"]
    assert keep.cached(secret_hash) == (True, token)
    keep.forget(created["id"])
    assert keep.cached(secret_hash) == (False, None), "a changed token is read again"


async def test_unknown_secrets_are_cached_negatively_until_any_token_changes(pooled) -> None:
    keep = cache.TokenCache()
    keep.following()
    garbage = tokens.hash_secret(tokens.new_secret())
    async with pooled.connection() as conn:
        assert await keep.load(conn, garbage) is None
    assert keep.cached(garbage) == (True, None)
    keep.forget("some other token")  # e.g. one just created on another worker
    assert keep.cached(garbage) == (False, None)


def test_negative_entries_are_bounded() -> None:
    keep = cache.TokenCache()
    keep.following()
    hashes = [tokens.hash_secret(str(i)) for i in range(cache.UNKNOWN_MAX + 10)]
    for secret_hash in hashes:
        keep.put(secret_hash, None)
    assert keep.cached(hashes[0]) == (False, None), "the oldest were evicted"
    assert keep.cached(hashes[-1]) == (True, None)
    keep.clear()
    assert keep.cached(hashes[-1]) == (False, None)


async def test_a_read_overtaken_by_a_notification_is_not_kept(pooled) -> None:
    created = await token_service.create(pooled, {"name": "t", "admin": True})
    secret_hash = tokens.hash_secret(created["token"])
    keep = cache.TokenCache()
    keep.following()
    async with pooled.connection() as conn:
        reading = asyncio.ensure_future(keep.load(conn, secret_hash))
        await asyncio.sleep(0)  # the query is on its way
        keep.forget(created["id"])  # heard while the row was being read
        assert (await reading) is not None, "this request still gets its answer"
    assert keep.cached(secret_hash) == (False, None), "but the next one reads again"


async def test_nothing_is_answered_from_memory_while_the_listener_is_away(pooled) -> None:
    created = await token_service.create(pooled, {"name": "t", "admin": True})
    secret_hash = tokens.hash_secret(created["token"])
    keep = cache.TokenCache()
    async with pooled.connection() as conn:
        assert await keep.load(conn, secret_hash) is not None
        assert keep.cached(secret_hash) == (False, None), "not kept before the listener hears"
        keep.following()
        await keep.load(conn, secret_hash)
        assert keep.cached(secret_hash)[0]
        keep.lost()  # a revoke made elsewhere now would go unheard
        assert keep.cached(secret_hash) == (False, None)
        await keep.load(conn, secret_hash)
        assert keep.cached(secret_hash) == (False, None), "and nothing read meanwhile is kept"
        keep.following()
        assert keep.cached(secret_hash) == (False, None), "what was kept before is gone too"
