"""BOOTSTRAP_ADMIN_TOKEN is stored once, however many workers start with it."""

from __future__ import annotations

from configsvc import app as app_mod

API = "/api/v1"


async def test_every_worker_starts_with_the_token_and_it_is_stored_once(
    aiohttp_client, settings, admin_token, db
) -> None:
    workers = [await aiohttp_client(app_mod.create_app(settings)) for _ in range(2)]
    rows = await db.fetch("SELECT name, admin FROM tokens")
    assert [(r["name"], r["admin"]) for r in rows] == [("bootstrap", True)]
    for worker in workers:
        resp = await worker.get(f"{API}/tokens/self",
                                headers={"Authorization": f"Bearer {admin_token}"})  # fmt: skip
        assert resp.status == 200


async def test_without_it_no_token_is_stored(aiohttp_client, settings, db) -> None:
    await aiohttp_client(app_mod.create_app(settings.model_copy(
        update={"bootstrap_admin_token": None})))  # fmt: skip
    assert await db.fetchval("SELECT count(*) FROM tokens") == 0
