"""The HTTP edge: a foreign Host or a foreign Origin on the feed is refused; no version leaks."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from configsvc_contract import models

from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.api import edge


async def refused(resp: aiohttp.ClientResponse, what: str) -> None:
    assert resp.status == 403, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = models.Problem.model_validate(await resp.json())
    assert what in body.detail


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", ""])
async def test_a_foreign_host_is_403_and_changes_nothing(client, host) -> None:
    resp = await client.post("/api/v1/applications", json={"name": "x"}, headers={"Host": host})
    await refused(resp, "Host")
    await refused(await client.get("/api/v1/applications", headers={"Host": host}), "Host")
    assert (await (await client.get("/api/v1/applications")).json())["items"] == []


@pytest.mark.parametrize("host", ["localhost", "localhost:1234", "127.0.0.1:9", "[::1]:8080"])
async def test_loopback_names_are_answered_when_listening_on_loopback(client, host) -> None:
    resp = await client.get("/api/v1/applications", headers={"Host": host})
    assert resp.status == 200


async def test_a_foreign_origin_cannot_open_the_feed(client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refusal:
        await client.ws_connect("/api/v1/ws", origin="http://evil.example")
    assert refusal.value.status == 403


async def test_same_origin_and_no_origin_open_the_feed(client) -> None:
    own = f"http://{client.host}:{client.port}"
    for origin in (own, None):
        ws = await client.ws_connect("/api/v1/ws", origin=origin)
        await ws.send_json({"type": "unsubscribe", "application_id": "x"})
        assert (await ws.receive_json(timeout=10))["type"] == "error"  # the socket works
        await ws.close()


async def test_allowed_origins_and_hosts_are_settings(
    aiohttp_client, settings, admin_headers
) -> None:
    settings = settings.model_copy(
        update={"allowed_origins": "https://ops.example.com", "allowed_hosts": "api.example.com"}
    )
    client = await aiohttp_client(app_mod.create_app(settings), headers=admin_headers)
    headers = {"Host": "api.example.com"}
    assert (await client.get("/api/v1/applications", headers=headers)).status == 200
    await refused(await client.get("/api/v1/applications"), "Host")  # not loopback any more
    ws = await client.ws_connect("/api/v1/ws", origin="https://ops.example.com", headers=headers)
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await client.ws_connect("/api/v1/ws", origin="https://evil.example", headers=headers)


def test_default_hosts_depend_on_the_listening_address() -> None:
    def rules(**values: str) -> edge.Rules:
        return edge.Rules.from_settings(settings_mod.Settings(_env_file=None, **values))

    assert rules(host="127.0.0.1").hosts == edge.LOOPBACK_NAMES
    assert rules(host="::1").hosts == edge.LOOPBACK_NAMES
    assert rules(host="0.0.0.0").hosts is None
    assert rules(host="0.0.0.0", allowed_hosts="a.example, B.example").hosts == {
        "a.example", "b.example"}  # fmt: skip
    assert rules(allowed_hosts="*").hosts is None
    assert rules(allowed_origins="*").origins is None


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/healthz", 200), ("GET", "/nowhere", 404), ("POST", "/api/v1/applications", 415),
     ("DELETE", "/healthz", 405)],
)  # fmt: skip
async def test_every_response_says_server_configsvc_without_a_version(
    client, method, path, status
) -> None:
    resp = await client.request(method, path)
    assert resp.status == status
    assert resp.headers["Server"] == "configsvc"


async def test_a_request_the_parser_refuses_gets_no_version_either(client) -> None:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
    async with asyncio.timeout(10):
        head = await reader.readuntil(b"\r\n\r\n")
    writer.close()
    assert b" 400 " in head.split(b"\r\n")[0]
    assert b"aiohttp" not in head
    assert b"Python" not in head
