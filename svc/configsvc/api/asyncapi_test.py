"""The AsyncAPI document of the live feed, against the models, what the real feed sends and what
the real client sends it."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import configsvc_client
import jsonschema_rs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from configsvc_contract import models

from configsvc import errors
from configsvc.api import applications, asyncapi
from configsvc.live import feed, listener, peer


@pytest.fixture
async def spec(client) -> dict[str, Any]:
    resp = await client.get(asyncapi.ASYNCAPI_PATH)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    return await resp.json()


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for key in ref.removeprefix("#/").split("/"):
        node = node[key]
    return node


async def test_it_is_asyncapi_3_with_every_message_of_the_feed(spec) -> None:
    assert spec["asyncapi"] == "3.0.0"
    assert spec["channels"]["feed"]["address"] == "/api/v1/ws"
    kinds = {}
    for operation in spec["operations"].values():
        assert resolve(spec, operation["channel"]["$ref"]) is spec["channels"]["feed"]
        [ref] = operation["messages"]
        message = resolve(spec, resolve(spec, ref["$ref"])["$ref"])
        kinds[message["name"]] = operation["action"]
        payload = resolve(spec, message["payload"]["$ref"])
        model = getattr(models, message["title"])
        assert set(payload["properties"]) == set(model.model_fields)
        assert payload["properties"]["type"]["const"] == message["name"]
    assert kinds == {
        "hello": "receive", "subscribe": "receive", "unsubscribe": "receive", "ack": "receive",
        "snapshot": "send", "change": "send", "synced": "send", "error": "send",
    }  # fmt: skip


FEED_SOURCE = Path(feed.__file__).read_text()


async def test_every_error_code_the_feed_sends_is_documented(spec) -> None:
    source = FEED_SOURCE
    # Literal codes in the feed, and every code the one error table can give a ServiceError.
    sent = set(re.findall(r'_error\("([a-z_]+)"', source))
    sent |= {kind.ws_code for kind in errors.KINDS.values()} | {errors.INTERNAL.ws_code}
    assert sent == set(spec["x-error-codes"])
    codes = spec["components"]["schemas"]["FeedError"]["properties"]["code"]["enum"]
    assert set(codes) == sent


async def test_the_close_codes_the_server_uses_are_documented(spec) -> None:
    closes = spec["x-close-codes"]
    for code in (1000, 1001, peer.CLOSE_TOO_SLOW, listener.CLOSE_SERVICE_RESTART):
        assert str(code) in closes
        assert closes[str(code)]


async def test_real_error_frames_match_the_document(client, spec) -> None:
    schema = spec["components"]["schemas"]["FeedError"]
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_str("not json")
        bad = await ws.receive_json(timeout=10)
        await ws.send_json({"type": "subscribe", "application_id": "nope"})
        missing = await ws.receive_json(timeout=10)
    for frame in (bad, missing):
        models.FeedError.model_validate(frame)
        assert frame["code"] in schema["properties"]["code"]["enum"]
    assert (bad["code"], missing["code"]) == ("bad_request", "not_found")


async def test_rest_and_feed_say_an_unknown_id_the_same_way(client) -> None:
    rid = "0" * 26
    rest = await (await client.get(f"{applications.PATH}/{rid}")).json()
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_json({"type": "subscribe", "application_id": rid})
        frame = await ws.receive_json(timeout=10)
    assert rest["detail"] == frame["detail"] == f"no application with id {rid}"


async def test_a_plain_get_on_the_feed_is_426_upgrade_required(client) -> None:
    resp = await client.get("/api/v1/ws")
    assert resp.status == 426
    assert resp.headers["Upgrade"] == "websocket"
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    models.Problem.model_validate(body)
    assert "WebSocket" in body["detail"]
    async with client.ws_connect("/api/v1/ws") as ws:  # a WebSocket client still gets in
        assert not ws.closed


async def test_an_oversized_client_message_closes_with_the_documented_code(client, spec) -> None:
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_str("x" * (64 * 1024 + 1))
        msg = await ws.receive(timeout=10)
    assert msg.type.name == "CLOSE"
    assert msg.data == 1009
    assert "64 KiB" in spec["x-close-codes"]["1009"]


def _validator(spec: dict[str, Any], kind: str) -> Any:
    """A JSON Schema validator for the payload of the document's message named ``kind``, its
    references resolved within the document."""
    (message,) = [m for m in spec["components"]["messages"].values() if m["name"] == kind]
    return jsonschema_rs.Draft202012Validator({**spec, "$ref": message["payload"]["$ref"]})


async def _relay(aiohttp_server: Any, upstream: TestClient, frames: list[tuple[str, Any]]) -> Any:
    """A WebSocket relay in front of the server's feed, recording every text frame each way
    (``("client", frame)`` or ``("server", frame)``)."""

    async def pipe(source: Any, sink: Any, side: str) -> None:
        async for msg in source:
            if msg.type is aiohttp.WSMsgType.TEXT:
                frames.append((side, json.loads(msg.data)))
                await sink.send_str(msg.data)
        await sink.close()

    async def feed_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with upstream.ws_connect("/api/v1/ws") as server:
            await asyncio.gather(pipe(ws, server, "client"), pipe(server, ws, "server"))
        return ws

    relay = web.Application()
    relay.router.add_get("/api/v1/ws", feed_handler)
    return await aiohttp_server(relay)


def _acked(frames: list[tuple[str, Any]]) -> set[str]:
    return {r["status"] for _, f in frames if f["type"] == "ack" for r in f["results"]}


async def test_the_real_clients_frames_and_the_servers_answers_match_the_document(
    client, spec, aiohttp_server
) -> None:
    """The Python client's live view, through a relay that records each frame: its hello,
    subscribe and acks (applied and rejected), the server's snapshot and changes."""
    app = await (await client.post("/api/v1/applications", json={"name": "framed"})).json()
    body = {"application_id": app["id"], "name": "limits", "config": {"rate": 1}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    frames: list[tuple[str, Any]] = []
    relay = await _relay(aiohttp_server, client, frames)
    url = str(relay.make_url("/"))

    def positive(name: str, config: dict[str, Any]) -> bool:
        return bool(config["rate"] > 0)

    async with (
        configsvc_client.ConfigClient(url) as live_client,
        live_client.watch(app["id"], validate=positive) as live,
    ):
        await live.fresh()
        for rate in (2, -1):
            put = {"name": "limits", "config": {"rate": rate}}
            resp = await client.put(f"/api/v1/configurations/{cfg['id']}", json=put)
            assert resp.status == 200
        async with asyncio.timeout(10):
            while _acked(frames) != {"applied", "rejected"}:
                await asyncio.sleep(0.05)
    kinds = [(side, frame["type"]) for side, frame in frames]
    assert kinds[:2] == [("client", "hello"), ("client", "subscribe")]
    assert {"snapshot", "change"} <= {kind for side, kind in kinds if side == "server"}
    for side, frame in frames:
        errors_found = [e.message for e in _validator(spec, frame["type"]).iter_errors(frame)]
        assert errors_found == [], f"{side} frame {frame} against the document"
    bad_hello = {"type": "hello", "client_id": "", "labels": {"k": 1}}
    assert not _validator(spec, "hello").is_valid(bad_hello)
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_json(bad_hello)
        refused = await ws.receive_json(timeout=10)
    assert refused["code"] == "bad_request", "the document refuses what the server refuses"
