"""The listener survives what production does to it: killed backends and a restarted server."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from configsvc import app as app_mod
from configsvc.db import migrations
from configsvc.devtools import pgcluster
from configsvc.live import feed, listener
from configsvc.live.feed_test import recv
from conftest import ADMIN_HEADERS


async def _wait(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_terminating_the_listener_backend_loses_no_change(client, db) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"n": 0}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)

    async def write(n: int) -> int:
        body = {"name": "c", "config": {"n": n}}
        resp = await client.put(f"/api/v1/configurations/{cfg['id']}", json=body)
        return int((await resp.json())["revision"])

    written = []
    for n in range(1, 61):
        written.append(await write(n))
        if n % 20 == 0:  # twice in the middle of the stream, once it is back
            async with asyncio.timeout(20):
                while not await db.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = $1 AND datname = current_database()",
                    listener.APPLICATION_NAME,
                ):
                    await asyncio.sleep(0.05)
    got = [(await recv(ws))["revision"] for _ in written]
    assert got == written
    await _wait(lambda: client.app[feed.LISTENER].connected)
    await ws.close()


@pytest.fixture
def own_cluster():
    """A cluster of this test's own, to stop and start without disturbing the others."""
    bindir = pgcluster.find_bindir()
    assert bindir is not None
    tmp = Path(tempfile.mkdtemp(prefix="configsvc-restart-"))
    tmp.chmod(0o755)
    cluster = pgcluster.Cluster(tmp / "data", pgcluster.free_port(), bindir)
    cluster.start(fast=True)
    cluster.create_database("restart")
    yield cluster
    cluster.stop()
    shutil.rmtree(tmp, ignore_errors=True)


async def test_postgres_restart_workers_recover_and_subscribers_get_what_follows(
    own_cluster, aiohttp_client, settings
) -> None:
    url = own_cluster.url_for("restart")
    conn = await asyncpg.connect(url)
    await migrations.apply(conn)
    await conn.close()
    client = await aiohttp_client(
        app_mod.create_app(
            settings.model_copy(update={"database_url": url, "listener_probe_s": 0.5})
        ),
        headers=ADMIN_HEADERS,
    )
    await _wait(lambda: client.app[feed.LISTENER].connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)

    await asyncio.to_thread(own_cluster.stop)
    await _wait(lambda: not client.app[feed.LISTENER].connected)
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert any("listener" in r for r in (await resp.json())["reasons"])
    resp = await client.post("/api/v1/applications", json={"name": "while-down"})
    assert resp.status == 503, "a lost database is a 503 to retry, never a 500"

    await asyncio.to_thread(own_cluster.start, fast=True)
    await _wait(lambda: client.app[feed.LISTENER].connected)
    body = {"application_id": app["id"], "name": "after", "config": {"back": True}}
    async with asyncio.timeout(20):
        while (resp := await client.post("/api/v1/configurations", json=body)).status == 503:
            await asyncio.sleep(0.1)  # the pool drops its dead connections as it meets them
    assert resp.status == 201
    change = await recv(ws)
    assert (change["op"], change["configuration"]["name"]) == ("created", "after")
    assert not ws.closed, "the subscriber stayed connected through the outage"
    assert (await client.get("/readyz")).status == 200
    await ws.close()


async def test_a_listener_that_was_away_past_retention_resets_its_subscribers(client, db) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)
    follower = client.app[feed.LISTENER]
    await db.execute("UPDATE revision_counter SET pruned_through = revision + 5")
    await db.fetchval(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1"
        " AND datname = current_database()",
        listener.APPLICATION_NAME,
    )
    msg = await ws.receive(timeout=20)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == listener.CLOSE_SERVICE_RESTART
    await _wait(lambda: follower.connected)
