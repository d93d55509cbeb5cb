from __future__ import annotations

from configsvc.db import database


async def test_healthz_answers_while_the_process_runs(client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"


async def test_readyz_is_ready_on_a_migrated_database(client) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["status"] == "ready"


async def test_readyz_is_503_with_a_reason_while_a_migration_is_pending(client) -> None:
    async with client.app[database.DB].connection() as conn:
        await conn.execute("DELETE FROM migrations WHERE version = 2")
    resp = await client.get("/readyz")
    assert resp.status == 503
    body = await resp.json()
    assert "0002_change_log.sql" in " ".join(body["reasons"])


async def test_readyz_is_503_when_the_database_is_gone(client, database_outage) -> None:
    async with database_outage():
        resp = await client.get("/readyz")
        assert resp.status == 503
        body = await resp.json()
        # Which check failed, not the driver's words (they name hosts, ports, databases).
        assert body["status"] == "unavailable"
        assert body["reasons"][0] == "database unavailable"
        assert set(body["reasons"]) <= {
            "database unavailable", "change listener is not connected to the database"}  # fmt: skip
