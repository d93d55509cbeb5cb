"""The pruner empties the change log of old entries while the service runs."""

from __future__ import annotations

import asyncio

from configsvc import app as app_mod
from configsvc.store import changes


async def test_the_pruner_runs_in_the_background(
    aiohttp_client, settings, db, admin_headers
) -> None:
    fast = settings.model_copy(update={"prune_interval_s": 0.05, "change_retention_days": 1e-9})
    client = await aiohttp_client(app_mod.create_app(fast), headers=admin_headers)
    await client.post("/api/v1/applications", json={"name": "soon-gone"})
    async with asyncio.timeout(10):
        while (await changes.counter(db))[1] == 0:
            await asyncio.sleep(0.05)
    assert await changes.after(db, 0) == []


async def test_a_failing_prune_is_logged_and_tried_again(
    aiohttp_client, settings, db, caplog, admin_headers
) -> None:
    fast = settings.model_copy(update={"prune_interval_s": 0.05, "change_retention_days": 1e-9})
    # A schema the pruner cannot work with: not an outage, a failure it must survive.
    await db.execute("ALTER TABLE changes RENAME COLUMN committed_at TO committed")
    client = await aiohttp_client(app_mod.create_app(fast), headers=admin_headers)
    await client.post("/api/v1/applications", json={"name": "soon-gone"})
    async with asyncio.timeout(10):
        while not any("pruning failed" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.05)
    assert next(r.exc_info for r in caplog.records if r.name == "configsvc.ops.pruning")
    await db.execute("ALTER TABLE changes RENAME COLUMN committed TO committed_at")
    async with asyncio.timeout(10):  # the pruner is still there, and prunes
        while (await changes.counter(db))[1] == 0:
            await asyncio.sleep(0.05)


async def test_the_pruner_also_prunes_history_and_the_audit_trail(
    aiohttp_client, settings, db, admin_headers
) -> None:
    fast = settings.model_copy(
        update={"prune_interval_s": 0.05, "history_retention_days": 1e-9,
                "history_keep_versions": 0, "audit_retention_days": 1e-9}
    )  # fmt: skip
    client = await aiohttp_client(app_mod.create_app(fast), headers=admin_headers)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    await client.put(f"/api/v1/applications/{app['id']}", json={"name": "b"})
    for schema in ({"type": "object"}, {"type": "object", "title": "kept"}):
        await client.put(f"/api/v1/applications/{app['id']}/schemas/*", json=schema)
    async with asyncio.timeout(10):
        while await db.fetchval("SELECT count(*) FROM application_versions") > 1:
            await asyncio.sleep(0.05)
        while await db.fetchval("SELECT count(*) FROM schema_versions") > 1:
            await asyncio.sleep(0.05)
        while await db.fetchval("SELECT count(*) FROM audit") > 0:
            await asyncio.sleep(0.05)
    versions = await (await client.get(f"/api/v1/applications/{app['id']}/versions")).json()
    assert [v["name"] for v in versions["items"]] == ["b"], "the newest version stays"
