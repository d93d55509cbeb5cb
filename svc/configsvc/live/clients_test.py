"""hello and ack on the feed, in one worker: what is refused, and what the fleet view shows."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from configsvc.live import clients

ULID = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"


async def recv(ws: Any) -> dict[str, Any]:
    data: dict[str, Any] = await ws.receive_json(timeout=10)
    return data


async def app_and_config(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    resp = await client.post("/api/v1/applications", json={"name": "shop"})
    app = await resp.json()
    body = {"application_id": app["id"], "name": "db", "config": {"pool": 5}}
    resp = await client.post("/api/v1/configurations", json=body)
    return app, await resp.json()


@pytest.mark.parametrize(
    ("hello", "field"),
    [
        ({"client_id": ""}, "client_id"),
        ({"client_id": "x" * 129}, "client_id"),
        ({"client_id": "a", "labels": {f"k{i}": "v" for i in range(33)}}, "labels"),
        ({"client_id": "a", "labels": {"k" * 65: "v"}}, "labels"),
        ({"client_id": "a", "labels": {"k": "v" * 257}}, "labels.k"),
        ({"client_id": "a", "labels": {"k": 1}}, "labels.k"),
        ({"client_id": "a\x00"}, "client_id"),
        ({"client_id": "\ud800"}, "client_id"),
        ({"client_id": "a", "labels": {"k": "\ud800"}}, "labels.k"),
        ({"client_id": "a", "extra": 1}, "extra"),
    ],
)
async def test_a_bad_hello_is_a_bad_request_naming_the_field_and_the_socket_stays(
    client, hello: dict[str, Any], field: str
) -> None:
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_json({"type": "hello", **hello})
        error = await recv(ws)
        assert error["type"] == "error"
        assert error["code"] == "bad_request"
        assert error["detail"].startswith(field)
        app, _ = await app_and_config(client)
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        assert (await recv(ws))["type"] == "snapshot"


async def test_acks_are_checked_and_recorded_and_old_clients_are_listed_too(client) -> None:
    app, cfg = await app_and_config(client)
    async with client.ws_connect("/api/v1/ws") as old, client.ws_connect("/api/v1/ws") as ws:
        await old.send_json({"type": "subscribe", "application_id": app["id"]})
        await ws.send_json({"type": "ack", "application_id": app["id"], "revision": 1})
        assert (await recv(ws))["code"] == "not_found", "not subscribed: nothing to ack"
        await ws.send_json({"type": "ack", "application_id": "nope", "revision": 1})
        error = await recv(ws)
        assert (error["code"], error["detail"].split(":")[0]) == ("bad_request", "application_id")
        await ws.send_json({"type": "hello", "client_id": "svc-1", "labels": {"env": "prod"}})
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        snap = await recv(ws)
        assert (await recv(old))["type"] == "snapshot"
        result = {"configuration_id": cfg["id"], "version": 1, "status": "rejected"}
        bad = {"type": "ack", "application_id": app["id"], "revision": snap["revision"]}
        await ws.send_json({**bad, "results": [{**result, "reason": "\x00"}]})
        assert (await recv(ws))["detail"].startswith("results.0.reason")
        too_many = [{**result, "configuration_id": f"01JDQ2Z8B6M4R1V3XK7N9P{n:04d}"}
                    for n in range(clients.MAX_RESULTS + 1)]  # fmt: skip
        await ws.send_json({**bad, "results": too_many})
        assert (await recv(ws))["detail"].startswith("results: more than")
        await ws.send_json({**bad, "results": [{**result, "reason": "no"}]})
        await ws.send_json({**bad, "results": [{**result, "status": "applied"}]})

        items = await _wait_listed(client, app["id"], 2)
        by_id = {c["client_id"]: c for c in items}
        assert by_id[None]["applied_revision"] is None, "an old client, without hello or ack"
        assert by_id[None]["lag"] is None
        assert by_id["svc-1"]["labels"] == {"env": "prod"}
        assert by_id["svc-1"]["applied_revision"] == snap["revision"]
        assert by_id["svc-1"]["rejections"] == [], "applying the same version clears it"
        resp = await client.get(f"/api/v1/configurations/{cfg['id']}/clients/summary")
        assert await resp.json() == {"versions": {"1": 1}, "rejected": {}, "unknown": 1}


async def _wait_listed(client: Any, app_id: str, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        while True:
            resp = await client.get(f"/api/v1/applications/{app_id}/clients")
            items: list[dict[str, Any]] = (await resp.json())["items"]
            if len(items) == count and any(c["applied_revision"] for c in items):
                return items
            await asyncio.sleep(clients.FLUSH_S / 4)


async def test_the_views_of_an_unknown_application_or_configuration_are_404(client) -> None:
    for path in (f"/api/v1/applications/{ULID}/clients", "/api/v1/applications/x/clients",
                 f"/api/v1/configurations/{ULID}/clients/summary"):  # fmt: skip
        resp = await client.get(path)
        assert resp.status == 404
        assert resp.content_type == "application/problem+json"
