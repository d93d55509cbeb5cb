"""Sockets follow their token, on every worker: revoked or expired closes them with 4401,
a grant taken away ends that subscription with ``forbidden``; tokens made on one worker work
on every other at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from configsvc import app as app_mod
from configsvc.live import follow, revocation
from configsvc.service import tokens as token_service
from conftest import ADMIN_HEADERS

API = "/api/v1"


async def _rest(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with session.request(method, url, **kw) as resp:
        assert resp.status < 300, await resp.text()
        return None if resp.status == 204 else await resp.json()


def _bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['token']}"}


async def _subscribed(session: aiohttp.ClientSession, url: str, token: dict[str, Any],
                      *app_ids: str) -> aiohttp.ClientWebSocketResponse:  # fmt: skip
    ws = await session.ws_connect(f"{url}{API}/ws", headers=_bearer(token))
    for app_id in app_ids:
        await ws.send_json({"type": "subscribe", "application_id": app_id})
        assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
    return ws


async def test_a_token_made_on_one_worker_works_on_every_other_at_once(service_factory) -> None:
    services = [service_factory(workers=2), service_factory()]
    async with (
        aiohttp.ClientSession(headers=ADMIN_HEADERS) as admin,
        aiohttp.ClientSession() as anon,
    ):
        for round_ in range(3):
            token = await _rest(admin, "POST", f"{services[round_ % 2].url}{API}/tokens",
                                json={"name": f"t{round_}", "admin": True})  # fmt: skip
            for i in range(6):  # new connections: they land on either worker
                url = f"{services[i % 2].url}{API}/tokens/self"
                async with anon.get(url, headers=_bearer(token)) as resp:
                    assert resp.status == 200, await resp.text()


async def test_revoking_closes_its_sockets_on_every_worker_with_4401(service_factory) -> None:
    services = [service_factory(workers=2), service_factory()]
    async with (
        aiohttp.ClientSession(headers=ADMIN_HEADERS) as admin,
        aiohttp.ClientSession() as anon,
    ):
        url = services[0].url
        app = await _rest(admin, "POST", f"{url}{API}/applications", json={"name": "a"})
        grants = [{"application_id": app["id"], "access": "read"}]
        doomed = await _rest(
            admin, "POST", f"{url}{API}/tokens", json={"name": "d", "grants": grants}
        )
        kept = await _rest(
            admin, "POST", f"{url}{API}/tokens", json={"name": "k", "grants": grants}
        )
        sockets = [
            await _subscribed(anon, services[i % 2].url, doomed, app["id"]) for i in range(6)
        ]
        survivor = await _subscribed(anon, services[1].url, kept, app["id"])

        await _rest(admin, "DELETE", f"{services[1].url}{API}/tokens/{doomed['id']}")
        for ws in sockets:
            msg = await ws.receive(timeout=5)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)
        for service in services:
            async with anon.get(
                f"{service.url}{API}/applications", headers=_bearer(doomed)
            ) as resp:
                assert resp.status == 401
        body = {"application_id": app["id"], "name": "c", "config": {}}
        await _rest(admin, "POST", f"{url}{API}/configurations", json=body)
        assert (await survivor.receive_json(timeout=5))["op"] == "created", "others stay"
        await survivor.close()


async def test_a_grant_taken_away_ends_that_subscription_only(service_factory) -> None:
    services = [service_factory(), service_factory()]
    async with (
        aiohttp.ClientSession(headers=ADMIN_HEADERS) as admin,
        aiohttp.ClientSession() as anon,
    ):
        url = services[0].url
        a = await _rest(admin, "POST", f"{url}{API}/applications", json={"name": "a"})
        b = await _rest(admin, "POST", f"{url}{API}/applications", json={"name": "b"})
        both = [{"application_id": x["id"], "access": "read"} for x in (a, b)]
        token = await _rest(admin, "POST", f"{url}{API}/tokens", json={"name": "t", "grants": both})
        sockets = [await _subscribed(anon, s.url, token, a["id"], b["id"]) for s in services]

        await _rest(admin, "PUT", f"{url}{API}/tokens/{token['id']}",
                    json={"name": "t", "grants": both[1:]})  # fmt: skip
        for ws in sockets:
            error = await ws.receive_json(timeout=5)
            assert (error["type"], error["code"], error["application_id"]) == (
                "error", "forbidden", a["id"])  # fmt: skip
        for x in (a, b):
            body = {"application_id": x["id"], "name": "c", "config": {}}
            await _rest(admin, "POST", f"{url}{API}/configurations", json=body)
        for ws in sockets:
            change = await ws.receive_json(timeout=5)
            assert (change["type"], change["application_id"]) == ("change", b["id"])
            await ws.close()


async def test_a_socket_is_closed_when_its_token_expires(client) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    resp = await client.post(f"{API}/tokens", json={"name": "t", "admin": True, "expires_at": soon})
    token = await resp.json()
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        msg = await ws.receive(timeout=10)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)
    resp = await client.get(f"{API}/applications", headers=_bearer(token))
    assert resp.status == 401
    assert "expired" in (await resp.json())["detail"]


async def test_sockets_are_rechecked_after_the_listener_reconnects(client, db) -> None:
    """Notifications sent while the listener was away are lost: the cache starts over."""
    resp = await client.post(f"{API}/tokens", json={"name": "t", "admin": True})
    token = await resp.json()
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        # Revoke behind the service's back (no NOTIFY), then cut its listener off.
        await db.execute("DELETE FROM tokens WHERE id = $1", token["id"])
        await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'configsvc-listener' AND datname = current_database()"
        )
        msg = await ws.receive(timeout=15)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)


async def _until(predicate, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def _listening_through(db_proxy: Any, aiohttp_client: Any, settings: Any,
                             database_url: str) -> Any:  # fmt: skip
    """A worker whose change listener reaches the database through ``db_proxy`` (so a test
    can cut or stall it), its listener connected."""
    cut_off = settings.model_copy(update={"listen_database_url": db_proxy.url(database_url)})
    client = await aiohttp_client(app_mod.create_app(cut_off), headers=ADMIN_HEADERS)
    await _until(lambda: client.app[follow.LISTENER].connected)
    return client


async def test_a_revoke_is_honoured_at_once_while_the_listener_is_cut_off(
    aiohttp_client, settings, database_url, db_proxy, pooled
) -> None:
    """While its listener cannot hear the tokens channel, a worker checks every token against
    the database: neither its own revoke nor another worker's is missed."""
    client = await _listening_through(db_proxy, aiohttp_client, settings, database_url)
    follower = client.app[follow.LISTENER]
    mine, theirs = [
        await (await client.post(f"{API}/tokens", json={"name": n, "admin": True})).json()
        for n in ("mine", "theirs")
    ]
    for token in (mine, theirs):  # cached by this worker
        assert (await client.get(f"{API}/tokens/self", headers=_bearer(token))).status == 200
    db_proxy.cut()
    await _until(lambda: not follower.connected)

    resp = await client.delete(f"{API}/tokens/{mine['id']}")  # on this very worker
    assert resp.status == 204
    await token_service.revoke(pooled, theirs["id"])  # as another worker would
    for token in (mine, theirs):
        resp = await client.get(f"{API}/tokens/self", headers=_bearer(token))
        assert resp.status == 401, await resp.text()
    db_proxy.mend()
    await _until(lambda: follower.connected, timeout=20)
    resp = await client.get(f"{API}/tokens/self", headers=_bearer(mine))
    assert resp.status == 401


async def test_a_socket_registered_after_its_revoke_was_heard_is_closed(client, pooled) -> None:
    """The upgrade is authorized first and the socket registered after: a revoke heard in
    between found no socket to close, so registering checks the token once more."""
    token = await (await client.post(f"{API}/tokens", json={"name": "t", "admin": True})).json()
    fanout, revoker = client.app[follow.HUB], client.app[revocation.REVOCATIONS]
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        await _until(lambda: len(fanout.peers) == 1)
        (me,) = fanout.peers
        fanout.peers.discard(me)  # back to the moment after the upgrade's token check
        await token_service.revoke(pooled, token["id"])
        await asyncio.sleep(revocation.TICK_S * 4)  # heard, re-checked: nothing to close
        assert not ws.closed
        fanout.peers.add(me)  # as the feed registers it
        revoker.registered(me)
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)


async def test_a_revoke_acts_on_its_own_worker_before_its_notification_arrives(
    aiohttp_client, settings, database_url, db_proxy
) -> None:
    """The worker that revokes does not wait for its own NOTIFY (which may be late, or lost
    with a connection that has not noticed yet): the next request and its sockets see it."""
    quiet = settings.model_copy(
        update={"listen_database_url": db_proxy.url(database_url), "listener_probe_s": 60.0}
    )
    client = await aiohttp_client(app_mod.create_app(quiet), headers=ADMIN_HEADERS)
    follower = client.app[follow.LISTENER]
    await _until(lambda: follower.connected)
    token = await (await client.post(f"{API}/tokens", json={"name": "t", "admin": True})).json()
    assert (await client.get(f"{API}/tokens/self", headers=_bearer(token))).status == 200
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        await _until(lambda: len(client.app[follow.HUB].peers) == 1)
        db_proxy.stall()  # the listener is connected, and hears nothing for now
        try:
            assert (await client.delete(f"{API}/tokens/{token['id']}")).status == 204
            assert follower.connected, "nothing told the worker its stream went quiet"
            resp = await client.get(f"{API}/tokens/self", headers=_bearer(token))
            assert resp.status == 401, await resp.text()
            msg = await ws.receive(timeout=5)
            assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)
        finally:
            db_proxy.flow()


async def test_a_socket_revoked_elsewhere_while_the_listener_is_away_reads_nothing_more(
    aiohttp_client, settings, database_url, db_proxy, pooled
) -> None:
    """No revoke is heard while the listener is cut off: a subscribe then re-reads the
    socket's token, so a token revoked on another worker gets no snapshot."""
    client = await _listening_through(db_proxy, aiohttp_client, settings, database_url)
    follower = client.app[follow.LISTENER]
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    token = await (await client.post(f"{API}/tokens", json={"name": "t", "admin": True})).json()
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        await _until(lambda: len(client.app[follow.HUB].peers) == 1)
        await asyncio.sleep(revocation.TICK_S * 2)  # the registration's re-check is done
        db_proxy.cut()
        await _until(lambda: not follower.connected)
        await token_service.revoke(pooled, token["id"])  # as another worker would
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        msg = await ws.receive(timeout=5)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)


async def test_a_token_revoked_unheard_gets_none_of_the_changes_missed_meanwhile(
    aiohttp_client, settings, database_url, db_proxy, pooled, db
) -> None:
    """After a reconnect the sockets' tokens are re-checked before the catch-up: a socket
    whose token was revoked while nothing was heard is closed, never sent what followed
    (however slow that re-check: here the tokens table is locked for a while)."""
    client = await _listening_through(db_proxy, aiohttp_client, settings, database_url)
    follower = client.app[follow.LISTENER]
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    token = await (await client.post(f"{API}/tokens", json={"name": "t", "admin": True})).json()
    async with client.ws_connect(f"{API}/ws", headers=_bearer(token)) as ws:
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        db_proxy.cut()
        await _until(lambda: not follower.connected)
        await token_service.revoke(pooled, token["id"])  # as another worker would
        body = {"application_id": app["id"], "name": "secret", "config": {"n": 1}}
        assert (await client.post(f"{API}/configurations", json=body)).status == 201
        async with db.transaction():
            await db.execute("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE")
            db_proxy.mend()
            await asyncio.sleep(1.5)  # reconnected, and its re-check waits for the lock
        msg = await ws.receive(timeout=20)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, revocation.CLOSE_UNAUTHORIZED)
