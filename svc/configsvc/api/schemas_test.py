"""JSON Schemas through the real server: put/get/list/delete, 422 violations, names, races."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from configsvc.api.conftest import API, make, refusal
from configsvc.service import validators

LIMITS = {
    "type": "object",
    "required": ["limits"],
    "properties": {
        "limits": {
            "type": "object",
            "properties": {
                "rate": {"type": "number", "maximum": 100},
                "burst": {"type": "integer", "minimum": 1},
            },
        },
        "region": {"type": "string", "pattern": "^[a-z]+-[a-z]+-[0-9]$"},
    },
}


async def setup(client: TestClient, config: dict[str, Any] | None = None) -> tuple[Any, Any]:  # type: ignore[type-arg]
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": config or {"limits": {}}}
    return app, await make(client, "POST", "/configurations", json=body)


async def test_put_get_list_delete_and_the_status_of_each(client) -> None:
    app, cfg = await setup(client)
    path = f"{API}/applications/{app['id']}/schemas/prod"
    resp = await client.put(path, json=LIMITS)
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert (created["name"], created["version"], created["schema"]) == ("prod", 1, LIMITS)
    assert resp.headers["ETag"] == '"1"'
    assert resp.headers["Location"] == path
    resp = await client.put(path, json={**LIMITS, "title": "t"}, headers={"If-Match": '"1"'})
    assert resp.status == 200
    assert (await resp.json())["version"] == 2
    got = await make(client, "GET", f"/applications/{app['id']}/schemas/prod")
    assert got["schema"]["title"] == "t"
    listed = await make(client, "GET", f"/applications/{app['id']}/schemas")
    assert [s["name"] for s in listed["items"]] == ["prod"]
    shown = await make(client, "GET", f"/configurations/{cfg['id']}")
    assert (shown["schema_status"], shown["schema_errors"]) == ("valid", [])
    assert (await client.delete(path)).status == 204
    await refusal(client, "GET", f"/applications/{app['id']}/schemas/prod", 404)
    shown = await make(client, "GET", f"/configurations/{cfg['id']}")
    assert shown["schema_status"] == "none"
    versions = await make(client, "GET", f"/applications/{app['id']}/schemas/prod/versions")
    assert [v["op"] for v in versions["items"]] == ["deleted", "updated", "created"]
    trail = await make(client, "GET", f"/audit?application_id={app['id']}")
    assert [e["action"] for e in trail["items"][:3]] == [
        "schema.delete", "schema.update", "schema.create"
    ]  # fmt: skip


async def test_a_write_that_fails_its_schema_is_422_with_every_violation(client, db) -> None:
    app, cfg = await setup(client)
    await make(client, "PUT", f"/applications/{app['id']}/schemas/*", json=LIMITS)
    revision = await db.fetchval("SELECT revision FROM revision_counter")
    bad = {"name": "prod", "config": {"limits": {"rate": 100.5, "burst": 0}, "region": "x"}}
    body = await refusal(client, "PUT", f"/configurations/{cfg['id']}", 422, json=bad)
    assert body["type"] == "urn:configsvc:problem:schema"
    assert sorted((e["field"], e["keyword"]) for e in body["errors"]) == [
        ("config/limits/burst", "minimum"),
        ("config/limits/rate", "maximum"),
        ("config/region", "pattern"),
    ]
    assert all(e["message"] for e in body["errors"])
    new = {"application_id": app["id"], "name": "other", "config": {}}
    body = await refusal(client, "POST", "/configurations", 422, json=new)
    assert body["errors"] == [
        {"field": "config", "keyword": "required", "message": '"limits" is a required property'}
    ]
    assert await db.fetchval("SELECT revision FROM revision_counter") == revision
    assert await db.fetchval("SELECT count(*) FROM configurations") == 1
    # Exact numbers: 100.0000000000000000001 is above 100, though a float would say equal.
    bad = {"name": "prod", "config": {"limits": {"rate": 100.0000000000000000001}}}
    resp = await client.put(
        f"{API}/configurations/{cfg['id']}",
        data='{"name":"prod","config":{"limits":{"rate":100.0000000000000000001}}}',
        headers={"Content-Type": "application/json"},
    )
    assert resp.status == 422, bad
    ok = {"name": "prod", "config": {"limits": {"rate": 99.99, "burst": 1.0}}}
    assert (await make(client, "PUT", f"/configurations/{cfg['id']}", json=ok))["version"] == 2


async def test_rollbacks_are_validated_too(client) -> None:
    app, cfg = await setup(client, {"limits": {"rate": 500}})
    path = f"/configurations/{cfg['id']}"
    await make(client, "PUT", path, json={"name": "prod", "config": {"limits": {"rate": 5}}})
    revision = (await make(client, "GET", path))["revision"]
    await make(client, "PUT", f"/applications/{app['id']}/schemas/prod", json=LIMITS)
    body = await refusal(client, "POST", f"{path}/rollback", 422, json={"to_version": 1})
    assert [e["field"] for e in body["errors"]] == ["config/limits/rate"]
    body = await refusal(
        client, "POST", f"/applications/{app['id']}/rollback", 422,
        json={"to_revision": revision - 1},
    )  # fmt: skip
    assert [(e["field"], e["configuration_id"]) for e in body["errors"]] == [
        ("config/limits/rate", cfg["id"])
    ]


async def test_a_schema_that_is_not_one_is_422_naming_what_is_wrong(client, db) -> None:
    app, _ = await setup(client)
    path = f"{API}/applications/{app['id']}/schemas/prod"
    cases = [
        ({"type": "strin"}, "type"),
        ({"properties": {"a": {"maxLength": -1}}}, "properties/a/maxLength"),
        ({"$ref": "https://example.com/s.json"}, "$ref"),
        ({"items": {"$ref": "other.json#/x"}}, "items/$ref"),
        ({"$schema": "http://json-schema.org/draft-07/schema#"}, "$schema"),
        ({"pattern": "(("}, "pattern"),
        ({"$ref": "#/$defs/missing"}, ""),
    ]
    for schema, field in cases:
        resp = await client.put(path, json=schema)
        body = await resp.json()
        assert resp.status == 422, (schema, body)
        assert body["type"] == "urn:configsvc:problem:schema"
        assert field in [e["field"] for e in body["errors"]], (schema, body)
    for raw, status in (("[1]", 400), ('{"a": "\\u0000"}', 422), ("{" * 70 + "}" * 70, 400)):
        resp = await client.put(path, data=raw, headers={"Content-Type": "application/json"})
        assert resp.status == status, (raw, await resp.text())
    resp = await client.put(path, json={"$defs": {"x": {}}}, params={"force": "1"})
    assert resp.status == 422
    assert await db.fetchval("SELECT count(*) FROM schemas") == 0


async def test_names_and_access(client, admin_token) -> None:
    app, _ = await setup(client)
    await refusal(client, "GET", f"/applications/{app['id']}/schemas/%20x", 404)
    resp = await client.put(f"{API}/applications/{app['id']}/schemas/caf%C3%A9%20b", json={})
    assert resp.headers["Location"].endswith("/schemas/caf%C3%A9%20b")
    assert (await client.get(resp.headers["Location"])).status == 200
    await refusal(client, "PUT", f"/applications/{'0' * 26}/schemas/x", 404, json={})
    await refusal(client, "GET", f"/applications/{'0' * 26}/schemas", 404)
    await refusal(client, "PUT", f"/applications/{app['id']}/schemas/x", 412,
                  json={}, headers={"If-Match": '"1"'})  # fmt: skip
    reader = await make(client, "POST", "/tokens", json={
        "name": "reader", "grants": [{"application_id": app["id"], "access": "read"}]})  # fmt: skip
    as_reader = {"Authorization": f"Bearer {reader['token']}"}
    await refusal(client, "PUT", f"/applications/{app['id']}/schemas/x", 403,
                  json={}, headers=as_reader)  # fmt: skip
    await make(client, "GET", f"/applications/{app['id']}/schemas", headers=as_reader)


async def test_a_schema_change_and_a_write_racing_never_commit_an_invalid_configuration(
    client, db: asyncpg.Connection
) -> None:
    """Both wait on the revision counter (held here; on one worker the second waits in its
    group commit's queue), then race: the write either commits first and the schema change
    sees it (409), or is checked against the new schema (422)."""
    app, cfg = await setup(client, {"limits": {"rate": 1}})
    bad = {"name": "prod", "config": {"limits": {"rate": 1000}}}
    for _ in range(4):
        async with db.transaction():
            await db.execute("SELECT * FROM revision_counter FOR UPDATE")
            write = asyncio.create_task(client.put(f"{API}/configurations/{cfg['id']}", json=bad))
            schema = asyncio.create_task(
                client.put(f"{API}/applications/{app['id']}/schemas/prod", json=LIMITS)
            )
            await _until_waiting(db, 1)
            await asyncio.sleep(0.2)  # the other one is queued behind it
        statuses = sorted([(await write).status, (await schema).status])
        assert statuses in ([200, 409], [201, 422]), statuses
        stored = await make(client, "GET", f"/configurations/{cfg['id']}")
        has_schema = (await client.get(f"{API}/applications/{app['id']}/schemas/prod")).ok
        assert not (has_schema and stored["config"]["limits"]["rate"] > 100)
        await client.delete(f"{API}/applications/{app['id']}/schemas/prod")
        await make(client, "PUT", f"/configurations/{cfg['id']}",
                   json={"name": "prod", "config": {"limits": {"rate": 1}}})  # fmt: skip


async def _until_waiting(db: asyncpg.Connection, count: int) -> None:
    """Until ``count`` other backends wait on a lock."""
    async with asyncio.timeout(10):
        while (
            await db.fetchval(
                "SELECT count(*) FROM pg_stat_clear_snapshot(), pg_stat_activity"
                " WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            < count
        ):
            await asyncio.sleep(0.01)


async def test_subscribers_never_see_schema_changes_and_workers_forget_old_versions(
    client,
) -> None:
    """Old clients keep working: no frame carries a schema op, live or in a catch-up."""
    app, cfg = await setup(client)
    start = cfg["revision"]
    ws = await client.ws_connect(f"{API}/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
    schema_path, config_path = (
        f"/applications/{app['id']}/schemas/*",
        f"/configurations/{cfg['id']}",
    )
    first = await make(client, "PUT", schema_path, json=LIMITS)
    good = {"name": "prod", "config": {"limits": {"rate": 1}}}
    await make(client, "PUT", config_path, json=good)
    cache = client.app[validators.VALIDATORS]
    assert cache.get((first["id"], 1)) is not None
    await make(client, "PUT", schema_path, json={**LIMITS, "title": "v2"})
    await make(client, "PUT", config_path, json=good)
    frames = [await ws.receive_json(timeout=10) for _ in range(2)]
    assert [f["op"] for f in frames] == ["updated", "updated"]
    # The listener dispatches in revision order: the schema change came before that frame.
    assert cache.get((first["id"], 1)) is None
    assert cache.get((first["id"], 2)) is not None
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": start})
    caught_up = [await ws.receive_json(timeout=10) for _ in range(3)]
    assert [f.get("op", f["type"]) for f in caught_up] == ["updated", "updated", "synced"]
    await ws.close()
