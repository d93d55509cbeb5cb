"""Numbers are kept exactly or refused: through the REST API, the database and the feed."""

from __future__ import annotations

import decimal

import pytest
from configsvc_client import models

from configsvc.db import jsonb

# The three numbers the attack found altered, and how PostgreSQL's jsonb writes each back.
EXAMPLES = [
    ("12345678901234567890.5", "12345678901234567890.5"),
    (
        "0.1000000000000000055511151231257827021181583404541015625",
        "0.1000000000000000055511151231257827021181583404541015625",
    ),
    ("1e-400", "0." + "0" * 399 + "1"),  # numeric writes positional digits, the value is exact
]


def test_decimals_are_written_as_postgresql_writes_them() -> None:
    value = jsonb.loads('{"a": [1.50, -0.0, 1E+3, 2.5e-7, "\\u0000 not a marker"]}')
    assert value["a"][0] == decimal.Decimal("1.50")
    assert jsonb.dumps(value) == '{"a":[1.50,-0.0,1000,0.00000025,"\\u0000 not a marker"]}'
    assert jsonb.dumps({"n": 3, "s": "x"}) == '{"n":3,"s":"x"}'


def test_other_types_are_still_refused() -> None:
    with pytest.raises(TypeError):
        jsonb.dumps({"x": object()})


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
    assert '"type":"snapshot"' in snapshot.data and expected in snapshot.data
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
