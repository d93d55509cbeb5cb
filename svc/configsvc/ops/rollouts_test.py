"""The rollout scheduler on a real server: steps advance by themselves and the last one
promotes; what it does shows on /metrics; a database outage delays it, never stops it."""

from __future__ import annotations

import asyncio
import logging

from configsvc.api.conftest import make
from configsvc.api.rollouts_test import PATIENCE, frames, hello, setup, start
from configsvc.ops import metrics_test, rollouts
from configsvc.service import application_writes, configuration_writes, writing
from configsvc.service import rollouts as service


async def test_steps_advance_by_themselves_and_the_last_one_promotes(client) -> None:
    app, cfg = await setup(client)
    ws, _ = await hello(client, app["id"], "watcher")
    made = await start(
        client, cfg, steps=[{"percent": 1, "hold_s": 1}, {"percent": 100, "hold_s": 1}]
    )
    path = f"/configurations/{cfg['id']}/rollouts/{made['id']}"
    async with asyncio.timeout(PATIENCE):
        while (seen := await make(client, "GET", path))["state"] == "running":
            await asyncio.sleep(0.2)
    assert (seen["state"], seen["step"]) == ("promoted", 1)
    now = await make(client, "GET", f"/configurations/{cfg['id']}")
    assert (now["config"], now["version"]) == ({"limit": 2}, 2)
    got = await frames(ws, 1.0)
    assert got[-1]["configuration"]["version"] == 2
    assert "rollout" not in got[-1]
    revisions = [f["revision"] for f in got]
    assert revisions == sorted(set(revisions)), "strictly increasing"
    await ws.close()


async def test_an_abort_by_the_scheduler_shows_on_metrics(client, db) -> None:
    app, cfg = await setup(client)
    before = metrics_test.sample(await (await client.get("/metrics")).text(),
                                 "configsvc_rollout_aborts_total")  # fmt: skip
    schema = {"type": "object", "properties": {"limit": {"maximum": 1}}}
    made = await start(client, cfg, steps=[{"percent": 100, "hold_s": 3600}])
    await make(client, "PUT", f"/applications/{app['id']}/schemas/prod", json=schema)
    await db.execute("UPDATE rollouts SET due_at = now()")  # its hold is over
    path = f"/configurations/{cfg['id']}/rollouts/{made['id']}"
    async with asyncio.timeout(PATIENCE):
        while True:
            text = await (await client.get("/metrics")).text()
            if metrics_test.sample(text, "configsvc_rollouts", state="aborted") == 1:
                break
            await asyncio.sleep(0.2)
    assert metrics_test.sample(text, "configsvc_rollouts", state="running") == 0
    assert metrics_test.sample(text, "configsvc_rollout_aborts_total") == before + 1
    assert (await make(client, "GET", path))["state"] == "aborted"


async def test_a_database_outage_delays_the_scheduler_and_never_stops_it(
    pooled, database_outage, caplog
) -> None:
    scheduler = asyncio.create_task(rollouts.Scheduler(pooled).run())
    try:
        async with database_outage(), asyncio.timeout(PATIENCE):
            while not any("rollout scheduler failed" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
        assert [r.levelno for r in caplog.records if "scheduler" in r.getMessage()] == [
            logging.WARNING]  # fmt: skip
        rollout_id = await _started(pooled)
        async with asyncio.timeout(PATIENCE):
            while (await _state(pooled, rollout_id)) == "running":
                await asyncio.sleep(0.1)
        assert await _state(pooled, rollout_id) == "promoted"
    finally:
        scheduler.cancel()
        await asyncio.gather(scheduler, return_exceptions=True)


async def _started(pooled) -> str:
    w = writing.Write()
    app = await application_writes.create_application(pooled, w, "billing", "")
    fields = {"name": "prod", "comments": "", "config": {"limit": 1}}
    cfg = await configuration_writes.create_configuration(pooled, w, app["id"], fields)
    body = {"config": {"limit": 2}, "steps": [{"percent": 100, "hold_s": 0}],
            "abort_on": {"rejected": 1}, "reason": "r"}  # fmt: skip
    made: dict[str, str] = await service.start(pooled, w, cfg["id"], body, 1)
    return made["id"]


async def _state(pooled, rollout_id: str) -> str:
    async with pooled.connection() as conn:
        state: str = await conn.fetchval("SELECT state FROM rollouts WHERE id = $1", rollout_id)
    return state
