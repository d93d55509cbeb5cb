"""A worker's change stream from start to stop: it follows from the revision current when it
starts (a subscriber gets what follows, no replay), and on shutdown its sockets are told to go
elsewhere (1001)."""

from __future__ import annotations

import asyncio

import aiohttp

from configsvc import app as app_mod
from configsvc.live import follow
from configsvc.service import application_writes, configuration_writes, writing
from conftest import ADMIN_HEADERS


async def test_a_worker_started_after_changes_sends_only_what_follows(
    pooled, settings, aiohttp_client
) -> None:
    w = writing.Write()
    app = await application_writes.create_application(pooled, w, "billing", "")
    fields = {"name": "prod", "comments": "", "config": {"n": 1}}
    cfg = await configuration_writes.create_configuration(pooled, w, app["id"], fields)
    client = await aiohttp_client(app_mod.create_app(settings), headers=ADMIN_HEADERS)
    assert client.app[follow.LISTENER].last == cfg["revision"]
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    snapshot = await ws.receive_json(timeout=10)
    assert (snapshot["type"], snapshot["revision"]) == ("snapshot", cfg["revision"])
    put = await client.put(f"/api/v1/configurations/{cfg['id']}",
                           json={"name": "prod", "config": {"n": 2}})  # fmt: skip
    assert put.status == 200
    change = await ws.receive_json(timeout=10)
    assert (change["op"], change["revision"]) == ("updated", cfg["revision"] + 1)
    await ws.close()


async def test_shutdown_closes_sockets_with_going_away(service_factory) -> None:
    service = service_factory()
    async with aiohttp.ClientSession(headers=ADMIN_HEADERS) as session:
        ws = await session.ws_connect(f"{service.url}/api/v1/ws")
        await asyncio.get_running_loop().run_in_executor(None, service.stop)
        msg = await ws.receive(timeout=10)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert msg.data == 1001
