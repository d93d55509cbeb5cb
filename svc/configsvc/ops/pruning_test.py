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
