"""JSONB goes in and out as Python objects; readiness says what is wrong."""

from __future__ import annotations

import asyncio
import decimal

import pytest
from configsvc_contract import models

from configsvc import app as app_mod
from configsvc.db import database


async def test_jsonb_round_trips_as_python_objects(db) -> None:
    await database.init_connection(db)
    value = {"a": [1, 2.5, None, True], "ü": {"nested": "ß"}}
    assert await db.fetchval("SELECT $1::jsonb", value) == value


async def test_readiness_problems_name_pending_migrations(client) -> None:
    db = client.app[database.DB]
    assert await database.problems(db) == []
    async with db.connection() as conn:
        await conn.execute("DELETE FROM migrations WHERE version = 2")
    assert await database.problems(db) == ["migrations pending: 0002_change_log.sql"]


async def test_a_request_that_gets_no_connection_in_time_is_a_503_not_a_hang(
    settings, aiohttp_client, admin_headers
) -> None:
    one = settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1,
                                      "db_acquire_timeout_s": 0.5})  # fmt: skip
    client = await aiohttp_client(app_mod.create_app(one), headers=admin_headers)
    db = client.app[database.DB]
    async with db.connection():  # the pool's only connection, held as a slow query would
        async with asyncio.timeout(10):
            resp = await client.get("/api/v1/applications")
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert resp.content_type == "application/problem+json"
    resp = await client.get("/api/v1/applications")
    assert resp.status == 200, "the connection is back in the pool once released"


# The three numbers the attack found altered, and how PostgreSQL's jsonb writes each back.
EXAMPLES = [
    ("12345678901234567890.5", "12345678901234567890.5"),
    (
        "0.1000000000000000055511151231257827021181583404541015625",
        "0.1000000000000000055511151231257827021181583404541015625",
    ),
    ("1e-400", "0." + "0" * 399 + "1"),  # numeric writes positional digits, the value is exact
]


@pytest.mark.parametrize(("sent", "stored"), EXAMPLES)
async def test_numbers_round_trip_exactly_through_rest_and_the_feed(
    client, db, sent, stored
) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "n"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
    raw = f'{{"application_id": "{app["id"]}", "name": "c", "config": {{"n": {sent}}}}}'
    resp = await client.post(
        "/api/v1/configurations", data=raw, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 201, await resp.text()
    expected = f'"config":{{"n":{stored}}}'
    assert expected in await resp.text()
    cfg_id = (await resp.json())["id"]
    assert expected in await (await client.get(f"/api/v1/configurations/{cfg_id}")).text()
    listed = await client.get(f"/api/v1/applications/{app['id']}/configurations")
    assert expected in await listed.text()
    assert await db.fetchval("SELECT config->>'n' FROM configurations") == stored

    change = await ws.receive(timeout=10)
    assert expected.replace(":", ": ") in change.data or expected in change.data
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    snapshot = await ws.receive(timeout=10)
    assert '"type":"snapshot"' in snapshot.data
    assert expected in snapshot.data
    await ws.close()
    assert decimal.Decimal(sent) == decimal.Decimal(stored)


async def test_nan_and_infinity_are_400(client) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        resp = await client.post(
            "/api/v1/applications", data=f'{{"name": {constant}}}',
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        assert resp.status == 400
        models.Problem.model_validate(await resp.json())
