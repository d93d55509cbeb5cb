"""A sync reads, gives the connection back, then sends: clients that never read cannot starve
the pool. Real server process, real sockets, real PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import asyncpg

from configsvc.live import peer_test
from configsvc.live.feed_test import recv

LOGGED = """
INSERT INTO changes (revision, application_id, configuration_id, op, resource)
SELECT r, $1, $2::text, 'updated',
       jsonb_build_object('id', $2::text, 'name', 'c0', 'pad', repeat('x', $3))
FROM generate_series($4::bigint, $5::bigint) AS r
"""


async def _history(db: asyncpg.Connection, app_id: str, cfg_id: str, count: int) -> int:
    """``count`` logged changes of 4 kB for the application, as if written one by one."""
    async with db.transaction():
        head = await db.fetchval("SELECT revision FROM revision_counter FOR UPDATE")
        await db.execute(LOGGED, app_id, cfg_id, 4000, head + 1, head + count)
        await db.execute("UPDATE revision_counter SET revision = $1", head + count)
    return int(head) + count


async def test_twenty_sockets_that_never_read_do_not_stop_rest_or_readiness(
    service_factory, db, admin_headers
) -> None:
    service = service_factory(db_pool_max="2", db_pool_min="1")
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, headers=admin_headers) as session:
        async with session.post(f"{service.url}/api/v1/applications", json={"name": "a"}) as r:
            app = await r.json()
        cfgs = []
        for n in range(2):
            body = {"application_id": app["id"], "name": f"c{n}", "config": {"pad": "x" * 900_000}}
            async with session.post(f"{service.url}/api/v1/configurations", json=body) as r:
                assert r.status == 201
                cfgs.append(await r.json())
        head = await _history(db, app["id"], cfgs[0]["id"], 3000)

        sockets = [await peer_test.RawSocket.open(service.port) for _ in range(20)]
        for raw in sockets:
            raw.subscribe(application_id=app["id"], since=1)
        # The server has written to every one of them and the kernel holds what they left
        # unread: their buffers are really full.
        async with asyncio.timeout(60):
            while not all(
                (entry := peer_test.tcp_entry(service.port, raw.port)) and entry[1] > 0
                for raw in sockets
            ):
                await asyncio.sleep(0.1)

        for _ in range(10):  # REST keeps answering, through a pool of two connections
            url = f"{service.url}/api/v1/applications/{app['id']}"
            async with session.get(url) as r:
                assert r.status == 200
        async with session.get(f"{service.url}/readyz") as r:
            assert r.status == 200, await r.text()
        idle = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%'"
        )
        assert idle == 0, "no connection waits on a client inside a transaction"

        # And a client that does read gets a consistent state: a reset snapshot, since the
        # thousands of missed changes are more than a socket may buffer.
        async with session.ws_connect(f"{service.url}/api/v1/ws", max_msg_size=0) as ws:
            await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": 1})
            snap = await recv(ws, timeout=30)
            assert (snap["type"], snap["reset"], snap["revision"]) == ("snapshot", True, head)
            assert sorted(c["name"] for c in snap["configurations"]) == ["c0", "c1"]
        for raw in sockets:
            raw.close()


async def test_a_small_catch_up_is_sent_as_changes_then_synced(client, db) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c0", "config": {}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    head = await _history(db, app["id"], cfg["id"], 5)
    async with client.ws_connect("/api/v1/ws") as ws:
        since = cfg["revision"]
        await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": since})
        got = [await recv(ws) for _ in range(6)]
    assert [m["revision"] for m in got[:5]] == list(range(since + 1, head + 1))
    assert {k: v for k, v in got[5].items() if k != "entry_id"} == {
        "type": "synced", "application_id": app["id"], "revision": head,
    }  # fmt: skip
    assert json.loads(json.dumps(got[0]["configuration"]))["pad"] == "x" * 4000


async def test_a_resume_from_another_history_gets_a_reset_snapshot(client, db) -> None:
    """``since`` with the entry id seen there: the same revision holding another change (a
    failover lost the client's) means a fresh snapshot, never "the changes since"."""
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c0", "config": {"n": 1}}
    await client.post("/api/v1/configurations", json=body)
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        seen = await recv(ws)
    since, entry_id = seen["revision"], seen["entry_id"]
    assert entry_id == await db.fetchval(
        "SELECT entry_id::text FROM changes WHERE revision = $1", since
    )

    async def resume(entry: str) -> dict[str, object]:
        async with client.ws_connect("/api/v1/ws") as ws:
            await ws.send_json({"type": "subscribe", "application_id": app["id"],
                                "since": since, "since_entry_id": entry})  # fmt: skip
            return await recv(ws)

    assert (await resume(entry_id))["type"] == "synced", "the same history: caught up"
    assert (await resume(entry_id.upper()))["type"] == "synced"
    await db.execute("UPDATE changes SET entry_id = gen_random_uuid() WHERE revision = $1", since)
    answer = await resume(entry_id)
    assert (answer["type"], answer["reset"], answer["revision"]) == ("snapshot", True, since)
    async with client.ws_connect("/api/v1/ws") as ws:
        await ws.send_json({"type": "subscribe", "application_id": app["id"],
                            "since": since, "since_entry_id": "not-a-uuid"})  # fmt: skip
        refused = await recv(ws)
    assert (refused["type"], refused["code"]) == ("error", "bad_request")
    assert "since_entry_id" in refused["detail"]
