"""The WebSocket feed as a subscriber sees it: real server, real database, real sockets."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import aiohttp
import prometheus_client
import pytest
from configsvc_contract import models

from configsvc.store import changes
from conftest import ADMIN_HEADERS

_names = itertools.count()
ServerMessage = models.ServerMessage


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = 10) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg!r}"
    data: dict[str, Any] = msg.json()
    return data


async def nothing_more(ws: aiohttp.ClientWebSocketResponse) -> None:
    """The socket has nothing queued for us (checked with a marker change, not a sleep)."""
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.3)


@pytest.fixture
def api(client):
    """Small REST helpers returning parsed bodies."""

    class Api:
        async def app(self, name: str | None = None) -> dict[str, Any]:
            resp = await client.post(
                "/api/v1/applications", json={"name": name or f"app-{next(_names)}"}
            )
            assert resp.status == 201
            return await resp.json()

        async def config(self, app_id: str, name: str | None = None, **config: Any):
            body = {"application_id": app_id, "name": name or f"c-{next(_names)}",
                    "config": config}  # fmt: skip
            resp = await client.post("/api/v1/configurations", json=body)
            assert resp.status == 201, await resp.text()
            return await resp.json()

        async def put(self, cfg: dict[str, Any], **config: Any) -> dict[str, Any]:
            body = {"name": cfg["name"], "config": config}
            resp = await client.put(f"/api/v1/configurations/{cfg['id']}", json=body)
            assert resp.status == 200
            return await resp.json()

    return Api()


@pytest.fixture
async def ws(client):
    sock = await client.ws_connect("/api/v1/ws")
    yield sock
    await sock.close()


async def test_subscribe_gets_a_snapshot_then_live_changes(ws, api) -> None:
    app = await api.app()
    first = await api.config(app["id"], "db", host="a")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    snap = await recv(ws)
    models.Snapshot.model_validate(snap)
    assert snap["type"] == "snapshot"
    assert snap["application_id"] == app["id"]
    assert snap["revision"] == first["revision"]
    assert snap["configurations"] == [first]
    assert "reset" not in snap

    updated = await api.put(first, host="b")
    change = await recv(ws)
    models.Change.model_validate(change)
    assert change == {
        "type": "change", "application_id": app["id"], "revision": updated["revision"],
        "op": "updated", "reason": None, "request_id": change["request_id"],
        "configuration": updated,
        "actor": {"id": change["actor"]["id"], "name": "bootstrap"},
        "entry_id": change["entry_id"],
    }  # fmt: skip
    assert len(change["entry_id"]) == 36, "the identity of its log entry (a UUID)"


async def test_subscribe_by_name_and_created_and_deleted_ops(ws, api, client) -> None:
    app = await api.app("billing")
    await ws.send_json({"type": "subscribe", "application_name": "billing"})
    snap = await recv(ws)
    assert (snap["application_id"], snap["configurations"]) == (app["id"], [])
    cfg = await api.config(app["id"], "limits", rate=5)
    created = await recv(ws)
    assert (created["op"], created["configuration"]) == ("created", cfg)
    assert (await client.delete(f"/api/v1/configurations/{cfg['id']}")).status == 204
    deleted = await recv(ws)
    assert deleted["op"] == "deleted"
    assert deleted["revision"] > created["revision"]
    assert (deleted["configuration"]["id"], deleted["configuration"]["name"]) == (
        cfg["id"], "limits")  # fmt: skip


async def test_application_changes_and_deletion_end_the_subscription(ws, api, client) -> None:
    app = await api.app("old")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)
    url = f"/api/v1/applications/{app['id']}"
    assert (await client.put(url, json={"name": "new"})).status == 200
    renamed = await recv(ws)
    assert (renamed["op"], renamed["application"]["name"]) == ("application_updated", "new")
    assert (await client.delete(url)).status == 204
    gone = await recv(ws)
    assert (gone["op"], gone["application"]["id"]) == ("application_deleted", app["id"])
    # The subscription ended: unsubscribing now says so.
    await ws.send_json({"type": "unsubscribe", "application_id": app["id"]})
    assert (await recv(ws))["type"] == "error"


async def test_only_the_subscribed_applications_changes_arrive(ws, api) -> None:
    mine, other = await api.app(), await api.app()
    await ws.send_json({"type": "subscribe", "application_id": mine["id"]})
    await recv(ws)
    await api.config(other["id"])
    marker = await api.config(mine["id"])
    assert (await recv(ws))["configuration"]["id"] == marker["id"]


async def test_resume_with_since_gets_each_missed_change_once_then_synced(client, api) -> None:
    app = await api.app()
    cfg = await api.config(app["id"], v=0)
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    seen = (await recv(ws))["revision"]
    await api.put(cfg, v=1)
    seen = (await recv(ws))["revision"]
    await ws.close()

    missed = [(await api.put(cfg, v=i))["revision"] for i in range(2, 6)]
    await api.config((await api.app())["id"])  # someone else's change in between

    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": seen})
    got = [await recv(ws) for _ in missed]
    assert [m["revision"] for m in got] == missed
    assert [m["configuration"]["config"]["v"] for m in got] == [2, 3, 4, 5]
    synced = await recv(ws)
    models.Synced.model_validate(synced)
    assert synced["type"] == "synced"
    assert synced["revision"] >= missed[-1]
    live = await api.put(cfg, v=6)
    assert (await recv(ws))["revision"] == live["revision"]
    await ws.close()


async def test_since_now_gives_just_synced(ws, api) -> None:
    app = await api.app()
    cfg = await api.config(app["id"])
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": cfg["revision"]})
    synced = await recv(ws)
    assert synced == {"type": "synced", "application_id": app["id"], "revision": cfg["revision"],
                      "entry_id": synced["entry_id"]}  # fmt: skip
    assert len(synced["entry_id"]) == 36, "the identity of the entry at that revision"


async def test_since_older_than_the_retained_log_gives_a_reset_snapshot(ws, api, db) -> None:
    app = await api.app()
    cfg = await api.config(app["id"], v=1)
    cfg = await api.put(cfg, v=2)
    assert await changes.prune(db, 0) == cfg["revision"]  # everything is older than 0 s
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": 1})
    snap = await recv(ws)
    assert (snap["type"], snap["reset"], snap["configurations"]) == ("snapshot", True, [cfg])
    assert snap["revision"] == cfg["revision"]


async def test_since_from_the_future_gives_a_reset_snapshot(ws, api) -> None:
    app = await api.app()
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": 10**12})
    snap = await recv(ws)
    assert (snap["type"], snap["reset"]) == ("snapshot", True)


async def test_unknown_application_is_an_error_and_the_socket_stays_open(ws, api) -> None:
    await ws.send_json({"type": "subscribe", "application_id": "0" * 26})
    err = await recv(ws)
    models.FeedError.model_validate(err)
    assert (err["type"], err["code"], err["application_id"]) == ("error", "not_found", "0" * 26)
    await ws.send_json({"type": "subscribe", "application_name": "nope"})
    assert (await recv(ws))["code"] == "not_found"
    app = await api.app()
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await recv(ws))["type"] == "snapshot"


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1]",
        '{"type": "dance"}',
        '{"type": "subscribe"}',
        '{"type": "subscribe", "application_id": "A", "application_name": "b"}',
        '{"type": "subscribe", "application_id": 5}',
        '{"type": "subscribe", "application_id": "A", "since": -1}',
        '{"type": "subscribe", "application_id": "A", "since": "3"}',
        '{"type": "subscribe", "application_id": "A", "extra": 1}',
        '{"type": "unsubscribe"}',
        '{"type": "subscribe", "application_id": ' + "[" * 65 + "]" * 65 + "}",  # MAX_JSON_DEPTH
        '{"type": "subscribe", "application_id": ' + "[" * 30_000 + "]" * 30_000 + "}",
    ],
)
async def test_malformed_messages_get_bad_request_and_the_socket_stays_open(ws, api, raw) -> None:
    await ws.send_str(raw)
    err = await recv(ws)
    assert (err["type"], err["code"]) == ("error", "bad_request")
    assert err["detail"]
    app = await api.app()
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await recv(ws))["type"] == "snapshot"


@pytest.mark.parametrize(
    "message",
    [{"application_id": "a\u0000b"}, {"application_name": "a\u0000b"},
     {"application_name": "n" * 5000}, {"application_id": "0" * 26, "since": 2**70}],
)  # fmt: skip
async def test_values_no_application_can_have_are_not_found(ws, api, message) -> None:
    await ws.send_json({"type": "subscribe", **message})
    assert (await recv(ws))["code"] == "not_found"
    app = await api.app()
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await recv(ws))["type"] == "snapshot", "the socket still works"


async def test_application_name_is_looked_up_as_names_are_stored(ws, api) -> None:
    app = await api.app("Caf\u00e9")
    await ws.send_json({"type": "subscribe", "application_name": "Cafe\u0301"})  # NFD
    snapshot = await recv(ws)
    assert (snapshot["type"], snapshot["application_id"]) == ("snapshot", app["id"])
    await ws.send_json({"type": "subscribe", "application_name": "Caf\u00e9\u200b"})
    assert (await recv(ws))["code"] == "not_found"


async def test_binary_frames_get_bad_request(ws) -> None:
    await ws.send_bytes(b"\x00\x01")
    assert (await recv(ws))["code"] == "bad_request"


async def test_unsubscribe_stops_the_changes(ws, api) -> None:
    a, b = await api.app(), await api.app()
    for app in (a, b):
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        await recv(ws)
    await ws.send_json({"type": "unsubscribe", "application_id": a["id"]})
    await api.config(a["id"])
    marker = await api.config(b["id"])
    assert (await recv(ws))["configuration"]["id"] == marker["id"]
    await ws.send_json({"type": "unsubscribe", "application_id": a["id"]})
    err = await recv(ws)
    assert (err["code"], err["application_id"]) == ("not_found", a["id"])


async def test_subscribing_twice_resyncs_without_duplicates(ws, api) -> None:
    app = await api.app()
    cfg = await api.config(app["id"])
    for _ in range(2):
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        assert (await recv(ws))["type"] == "snapshot"
    updated = await api.put(cfg, z=1)
    assert (await recv(ws))["revision"] == updated["revision"]
    await nothing_more(ws)


async def test_many_subscribers_on_one_socket_and_many_sockets(client, api) -> None:
    apps = [await api.app() for _ in range(3)]
    sockets = [await client.ws_connect("/api/v1/ws") for _ in range(4)]
    for sock in sockets:
        for app in apps:
            await sock.send_json({"type": "subscribe", "application_id": app["id"]})
            await recv(sock)
    made = [await api.config(app["id"]) for app in apps for _ in range(3)]
    for sock in sockets:
        got = [await recv(sock) for _ in made]
        assert [m["revision"] for m in got] == [c["revision"] for c in made]
        await sock.close()


# --- connection behaviour ------------------------------------------------------------------


@pytest.fixture
async def small_queue_client(aiohttp_client, settings, admin_headers):
    from configsvc import app as app_mod
    from configsvc.live import follow

    small = settings.model_copy(update={"ws_send_buffer_bytes": 1_000_000})
    test_client = await aiohttp_client(app_mod.create_app(small), headers=admin_headers)
    async with asyncio.timeout(10):
        while not test_client.app[follow.LISTENER].connected:
            await asyncio.sleep(0.01)
    return test_client


async def test_a_slow_consumer_is_closed_with_4008_and_resumes_with_since(
    small_queue_client,
) -> None:
    client = small_queue_client
    resp = await client.post("/api/v1/applications", json={"name": "big"})
    app = await resp.json()
    body = {"application_id": app["id"], "name": "blob", "config": {"v": 0}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    fast = await client.ws_connect("/api/v1/ws", max_msg_size=0)
    slow = await client.ws_connect("/api/v1/ws", max_msg_size=0)
    for sock in (fast, slow):
        await sock.send_json({"type": "subscribe", "application_id": app["id"]})
        await recv(sock)

    # Large changes fill the kernel's buffers quickly; the slow socket reads nothing.
    slow_closes = prometheus_client.REGISTRY.get_sample_value(
        "configsvc_ws_slow_consumer_closes_total"
    )
    revisions = []
    for i in range(1, 120):
        body = {"name": "blob", "config": {"v": i, "pad": "x" * 200_000}}
        resp = await client.put(f"/api/v1/configurations/{cfg['id']}", json=body)
        revisions.append((await resp.json())["revision"])
        assert (await recv(fast))["revision"] == revisions[-1]  # the fast one keeps up

    got: list[int] = []
    while True:
        msg = await slow.receive(timeout=10)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        got.append(msg.json()["revision"])
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == 4008
    assert "since" in msg.extra
    assert (
        prometheus_client.REGISTRY.get_sample_value("configsvc_ws_slow_consumer_closes_total")
        == (slow_closes or 0) + 1
    )
    assert got == revisions[: len(got)], "what did arrive came in order, without gaps"
    assert len(got) < len(revisions)

    again = await client.ws_connect("/api/v1/ws", max_msg_size=0)
    await again.send_json({"type": "subscribe", "application_id": app["id"], "since": got[-1]})
    first = await recv(again)
    if first["type"] == "snapshot":  # more was missed than the socket may buffer: start over
        assert (first["reset"], first["revision"]) == (True, revisions[-1])
        assert first["configurations"][0]["config"]["v"] == len(revisions)
    else:
        rest = [first["revision"]] + [
            (await recv(again))["revision"] for _ in revisions[len(got) + 1 :]
        ]
        assert got + rest == revisions
        assert (await recv(again))["type"] == "synced"
    for sock in (fast, again):
        await sock.close()


async def test_a_peer_that_does_not_answer_pings_is_dropped(
    aiohttp_client, settings, admin_headers
) -> None:
    from configsvc import app as app_mod

    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update={"ws_heartbeat_s": 0.2})),
        headers=admin_headers,
    )
    mute = await client.ws_connect("/api/v1/ws", autoping=False)
    polite = await client.ws_connect("/api/v1/ws")
    kinds = []
    async with asyncio.timeout(10):
        while (msg := await mute.receive()).type is aiohttp.WSMsgType.PING:
            kinds.append(msg.type)
    assert kinds, "the server pinged"
    assert msg.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}
    assert not polite.closed, "a peer that answers pings stays connected"
    await polite.close()


# --- real server processes -----------------------------------------------------------------


async def _rest(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with session.request(method, url, **kw) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def test_a_write_through_one_worker_reaches_a_subscriber_of_another(
    service_factory,
) -> None:
    a, b = service_factory(), service_factory()
    async with aiohttp.ClientSession(headers=ADMIN_HEADERS) as session:
        app = await _rest(session, "POST", f"{a.url}/api/v1/applications", json={"name": "x"})
        ws = await session.ws_connect(f"{b.url}/api/v1/ws")
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        await recv(ws)
        body = {"application_id": app["id"], "name": "c", "config": {"k": 1}}
        cfg = await _rest(session, "POST", f"{a.url}/api/v1/configurations", json=body)
        change = await recv(ws)
        assert (change["op"], change["configuration"]) == ("created", cfg)
        await ws.close()


async def test_twenty_concurrent_writers_every_subscriber_gets_every_revision_once_in_order(
    service_factory, db
) -> None:
    services = [service_factory(), service_factory(workers=2)]
    async with aiohttp.ClientSession(headers=ADMIN_HEADERS) as session:
        apps = [
            await _rest(
                session, "POST", f"{services[0].url}/api/v1/applications", json={"name": f"app{i}"}
            )
            for i in range(4)
        ]
        sockets = []
        for i in range(8):
            sock = await session.ws_connect(f"{services[i % 2].url}/api/v1/ws")
            for app in apps[i % 2 :: 1 + i % 2]:
                await sock.send_json({"type": "subscribe", "application_id": app["id"]})
                await recv(sock)
            sockets.append(sock)

        async def writer(w: int) -> None:
            base = services[w % 2].url
            mine = apps[w % len(apps)]
            body = {"application_id": mine["id"], "name": f"w{w}", "config": {"n": 0}}
            cfg = await _rest(session, "POST", f"{base}/api/v1/configurations", json=body)
            for n in range(1, 15):
                body = {"name": f"w{w}", "config": {"n": n}}
                await _rest(session, "PUT", f"{base}/api/v1/configurations/{cfg['id']}", json=body)

        await asyncio.gather(*(writer(w) for w in range(20)))
        rows = await db.fetch("SELECT application_id, revision FROM changes ORDER BY revision")
        expected: dict[str, list[int]] = {}
        for row in rows:
            expected.setdefault(row["application_id"], []).append(row["revision"])
        for i, sock in enumerate(sockets):
            subscribed = [app["id"] for app in apps[i % 2 :: 1 + i % 2]]
            want = sorted(r for a in subscribed for r in expected[a][1:])  # [0]: app created
            got = [(await recv(sock))["revision"] for _ in want]
            assert got == want
            await nothing_more(sock)
            await sock.close()


async def test_subscribing_while_the_database_is_unreachable_is_an_error_to_retry(
    ws, api, database_outage
) -> None:
    app = await api.app()
    async with database_outage():
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        err = await recv(ws)
        assert (err["code"], err["application_id"]) == ("unavailable", app["id"])
    async with asyncio.timeout(20):
        while True:  # the same socket works once the database is back
            await ws.send_json({"type": "subscribe", "application_id": app["id"]})
            if (await recv(ws))["type"] == "snapshot":
                break
            await asyncio.sleep(0.1)


# --- hostile input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "subscribe", "application_id": ' + "[" * 30_000 + "]" * 30_000 + "}",
        '{"type": "subscribe", "x": ' + '{"a": ' * 65 + "1" + "}" * 65 + "}",
        '{"type": "subscribe", "application_id": "\\ud800"}',
        '{"type": "subscribe", "application_name": "a\\udfffb"}',
        '{"type": "unsubscribe", "application_id": "\\ud800"}',
    ],
    ids=["deep-arrays", "deep-objects", "surrogate-id", "surrogate-name", "surrogate-unsub"],
)
async def test_deep_json_and_lone_surrogates_get_bad_request_and_the_socket_stays_open(
    ws, api, raw, caplog
) -> None:
    await ws.send_str(raw)
    err = await recv(ws)
    assert (err["type"], err["code"]) == ("error", "bad_request")
    app = await api.app()
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await recv(ws))["type"] == "snapshot", "the socket still works"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no traceback"


async def test_brackets_inside_strings_do_not_count_as_depth(ws) -> None:
    name = "[{" * 100 + '\\"' + "[" * 100
    await ws.send_str(f'{{"type": "subscribe", "application_name": "{name}"}}')
    assert (await recv(ws))["code"] == "not_found"


async def test_a_change_carries_its_reason_and_request_id(ws, api, client) -> None:
    app = await api.app()
    cfg = await api.config(app["id"], v=0)
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)
    headers = {"X-Change-Reason": "rotate the key", "X-Request-Id": "deploy-7"}
    body = {"name": cfg["name"], "config": {"v": 1}}
    resp = await client.put(f"/api/v1/configurations/{cfg['id']}", json=body, headers=headers)
    assert resp.headers["X-Request-Id"] == "deploy-7"
    frame = await recv(ws)
    assert (frame["reason"], frame["request_id"]) == ("rotate the key", "deploy-7")
    models.Change.model_validate(frame)


async def test_an_application_rollback_is_one_frame_live_and_on_resume(ws, api, client) -> None:
    app = await api.app()
    keep = await api.config(app["id"], v=0)
    gone = await api.config(app["id"], v=0)
    at = gone["revision"]
    await api.put(keep, v=1)
    resp = await client.delete(f"/api/v1/configurations/{gone['id']}")
    assert resp.status == 204
    later = await api.config(app["id"], v=2)
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    seen = (await recv(ws))["revision"]
    resp = await client.post(f"/api/v1/applications/{app['id']}/rollback", json={"to_revision": at})
    assert resp.status == 200, await resp.text()
    frame = await recv(ws)
    assert (frame["op"], frame["deleted"]) == ("rolled_back", [later["id"]])
    assert {c["id"]: c["config"] for c in frame["configurations"]} == {
        keep["id"]: {"v": 0}, gone["id"]: {"v": 0}
    }  # fmt: skip
    await nothing_more(ws)
    again = await client.ws_connect("/api/v1/ws")
    await again.send_json({"type": "subscribe", "application_id": app["id"], "since": seen})
    assert await recv(again) == frame, "resuming replays the very same frame"
    await again.close()
