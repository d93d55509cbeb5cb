"""?dry_run=true on every write: the answer, and a database left exactly as it was."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from configsvc.api.conftest import API, make, refusal
from configsvc.api.schemas_test import LIMITS

DRY = {"dry_run": "true"}


async def dump(db: asyncpg.Connection) -> list[str]:
    """Every row of every table (sorted), and every sequence's position: what pg_dump
    --data-only would write, as text."""
    tables = await db.fetch(
        "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'"
        " ORDER BY tablename"
    )
    lines = []
    for table in tables:
        rows = await db.fetch(f"SELECT t::text AS row FROM {table['name']} t")
        lines += sorted(f"{table['name']}: {row['row']}" for row in rows)
    for seq in await db.fetch("SELECT sequencename, last_value FROM pg_sequences"):
        lines.append(f"{seq['sequencename']}: {seq['last_value']}")
    return lines


async def dry(client: TestClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    resp = await client.request(method, f"{API}{path}", params=DRY, **kwargs)
    assert resp.status == 200, (method, path, resp.status, await resp.text())
    assert "ETag" not in resp.headers
    body: dict[str, Any] = await resp.json()
    assert set(body) == {"valid", "errors", "status", "patch", "would_be_version", "subscribers"}
    return body


async def test_a_dry_run_of_every_write_answers_and_leaves_the_database_as_it_was(
    client, db: asyncpg.Connection
) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": {"limits": {"rate": 1}}}
    cfg = await make(client, "POST", "/configurations", json=body)
    await make(client, "PUT", f"/configurations/{cfg['id']}",
               json={"name": "prod", "config": {"limits": {"rate": 2}}})  # fmt: skip
    await make(client, "PUT", f"/applications/{app['id']}/schemas/prod", json=LIMITS)
    revision = await db.fetchval("SELECT revision FROM revision_counter")
    before = await dump(db)
    a, c, s = f"/applications/{app['id']}", f"/configurations/{cfg['id']}", "/schemas"
    new = {**body, "name": "staging", "config": {"x": 1}}
    back_one, back_app = {"to_version": 1}, {"to_revision": revision - 2}
    answers = {
        "create application": await dry(client, "POST", "/applications", json={"name": "n"}),
        "replace application": await dry(client, "PUT", a, json={"name": "renamed"}),
        "delete application": await dry(client, "DELETE", a),
        "create configuration": await dry(client, "POST", "/configurations", json=new),
        "replace configuration": await dry(
            client, "PUT", c, json={"name": "prod", "config": {"limits": {"rate": 3}}}
        ),
        "delete configuration": await dry(client, "DELETE", c),
        "roll a configuration back": await dry(client, "POST", f"{c}/rollback", json=back_one),
        "roll the application back": await dry(client, "POST", f"{a}/rollback", json=back_app),
        "put a schema": await dry(client, "PUT", f"{a}{s}/*", json={"type": "object"}),
        "replace a schema": await dry(client, "PUT", f"{a}{s}/prod", json={"type": "object"}),
        "delete a schema": await dry(client, "DELETE", f"{a}{s}/prod"),
    }
    assert await dump(db) == before, "nothing written, not even an audit entry"
    assert await db.fetchval("SELECT revision FROM revision_counter") == revision
    statuses = {what: (answer["status"], answer["valid"]) for what, answer in answers.items()}
    assert statuses == {
        "create application": (201, True), "replace application": (200, True),
        "delete application": (204, True), "create configuration": (201, True),
        "replace configuration": (200, True), "delete configuration": (204, True),
        "roll a configuration back": (200, True), "roll the application back": (200, True),
        "put a schema": (201, True), "replace a schema": (200, True),
        "delete a schema": (204, True),
    }  # fmt: skip
    assert answers["replace configuration"]["patch"] == [
        {"op": "replace", "path": "/config/limits/rate", "value": 3}
    ]
    assert answers["replace configuration"]["would_be_version"] == 3
    assert answers["delete configuration"]["would_be_version"] == 3
    assert answers["roll the application back"]["patch"] == [
        {"op": "replace", "path": f"/configurations/{cfg['id']}/config/limits/rate", "value": 1}
    ]
    assert answers["roll the application back"]["would_be_version"] is None
    assert answers["replace a schema"]["patch"] == [
        {"op": "remove", "path": "/schema/required"},
        {"op": "remove", "path": "/schema/properties"},
    ]
    assert {"op": "remove", "path": "/configurations"} in answers["delete application"]["patch"]


async def test_a_dry_run_reports_schema_violations_as_not_valid(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": {"limits": {"rate": 500}}}
    cfg = await make(client, "POST", "/configurations", json=body)
    schema_path = f"/applications/{app['id']}/schemas/prod"
    conflict = await dry(client, "PUT", schema_path, json=LIMITS)
    assert (conflict["valid"], conflict["status"]) == (False, 409)
    assert conflict["errors"] == [
        {"field": "config/limits/rate", "keyword": "maximum", "configuration_id": cfg["id"],
         "name": "prod", "message": "500 is greater than the maximum of 100"}
    ]  # fmt: skip
    not_a_schema = await dry(client, "PUT", schema_path, json={"type": 7})
    assert (not_a_schema["valid"], not_a_schema["status"]) == (False, 422)
    assert not_a_schema["errors"][0]["field"] == "type"
    await make(client, "PUT", schema_path, json=LIMITS, params={"force": "true"})
    bad = {"name": "prod", "config": {"limits": {"rate": 200, "burst": 0}}}
    answer = await dry(client, "PUT", f"/configurations/{cfg['id']}", json=bad)
    assert (answer["valid"], answer["status"]) == (False, 422)
    assert sorted(e["keyword"] for e in answer["errors"]) == ["maximum", "minimum"]
    assert {"op": "replace", "path": "/config/limits/rate", "value": 200} in answer["patch"]
    trail = await make(client, "GET", f"/audit?application_id={app['id']}")
    assert [e["outcome"] for e in trail["items"]] == ["ok", "ok", "ok"], "dry runs: no trace"


async def test_other_refusals_are_answered_as_the_real_write_would(client) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    path = f"/applications/{app['id']}"
    await refusal(client, "PUT", path, 412, json={"name": "x"}, params=DRY,
                  headers={"If-Match": '"9"'})  # fmt: skip
    await refusal(client, "DELETE", f"/applications/{'0' * 26}", 404, params=DRY)
    await refusal(client, "POST", "/applications", 409, json={"name": "billing"}, params=DRY)
    body = await refusal(client, "DELETE", path, 422, params={"dry_run": "yes"})
    assert body["errors"][0]["field"] == "dry_run"
    reader = await make(client, "POST", "/tokens", json={
        "name": "r", "grants": [{"application_id": app["id"], "access": "read"}]})  # fmt: skip
    await refusal(client, "DELETE", path, 403, params=DRY,
                  headers={"Authorization": f"Bearer {reader['token']}"})  # fmt: skip


async def test_subscribers_counts_the_live_subscriptions(client) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    path = f"/applications/{app['id']}"
    assert (await dry(client, "PUT", path, json={"name": "b"}))["subscribers"] == 0
    sockets = [await client.ws_connect(f"{API}/ws") for _ in range(2)]
    for ws in sockets:
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
    async with asyncio.timeout(10):  # the fleet tables are written about once a second
        while (await dry(client, "PUT", path, json={"name": "b"}))["subscribers"] != 2:
            await asyncio.sleep(0.1)
    schema = await dry(client, "PUT", f"{path}/schemas/*", json={})
    assert schema["subscribers"] == 0, "schema changes are not sent to subscribers"
    for ws in sockets:
        await ws.close()


async def test_a_dry_run_never_waits_for_the_revision_lock(client, db) -> None:
    """A write holding the revision counter (a slow commit, say) holds up other writes; a dry
    run writes nothing and answers meanwhile."""
    app = await make(client, "POST", "/applications", json={"name": "a"})
    body = {"application_id": app["id"], "name": "c", "config": {"n": 1}}
    cfg = await make(client, "POST", "/configurations", json=body)
    async with db.transaction():
        await db.execute("SELECT revision FROM revision_counter FOR UPDATE")
        async with asyncio.timeout(10):
            preview = await dry(
                client, "PUT", f"/configurations/{cfg['id']}",
                json={"name": "c", "config": {"n": 2}}, headers={"If-Match": '"1"'},
            )  # fmt: skip
            created = await dry(client, "POST", "/configurations", json={**body, "name": "d"})
    assert (preview["valid"], preview["would_be_version"]) == (True, 2)
    assert created["valid"]


async def test_a_dry_run_changing_a_fraction_answers_its_patch(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": {"rate": 0.5, "n": [1.25]}}
    cfg = await make(client, "POST", "/configurations", json=body)
    before = await dump(db)
    change = {"name": "prod", "config": {"rate": 0.75, "n": [1.25]}}
    answer = await dry(client, "PUT", f"/configurations/{cfg['id']}", json=change)
    assert answer["patch"] == [{"op": "replace", "path": "/config/rate", "value": 0.75}]
    assert await dump(db) == before
