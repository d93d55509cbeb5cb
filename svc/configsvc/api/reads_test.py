"""Reads as the API serves them: from the cache and from the database alike (bodies and
headers, every operation and error), permissions on every hit, a hit needing no database,
minimum revisions (bad ones, a lagging listener, a write made through another worker)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import prometheus_client
import pytest
from configsvc_client import api

from configsvc import app as app_mod
from configsvc.db import database
from configsvc.live import cache, follow, listener
from configsvc.service import application_writes, configuration_writes, writing
from configsvc.store import changes
from conftest import ADMIN_HEADERS

W = writing.Write()


def _sample(name: str, **labels: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0


async def _put(pooled: database.Database, config_id: str, v: Any) -> dict[str, Any]:
    fields = {"name": "c", "comments": "", "config": {"v": v}}
    return await configuration_writes.replace_configuration(pooled, W, config_id, fields, None)


# --- as the API serves it -------------------------------------------------------------------

API = "/api/v1"
HITS = "configsvc_read_cache_lookups_total"
# Differ per response whatever serves it.
_PER_RESPONSE = {"date", "x-request-id"}


async def _wait(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def _answer(
    client, method: str, path: str, **kwargs: Any
) -> tuple[int, bytes, dict[str, str]]:
    resp = await client.request(method, path, **kwargs)
    headers = {k: v for k, v in resp.headers.items() if k.lower() not in _PER_RESPONSE}
    return resp.status, await resp.read(), headers


async def _caught_up(client) -> int:
    """The head, once this server's listener has applied it."""
    async with client.app[database.DB].connection() as conn:
        head, _ = await changes.counter(conn)
    await _wait(lambda: client.app[cache.CACHE].revision >= head)
    return head


@pytest.fixture
async def uncached(aiohttp_client, settings):
    """A second server on the same database with READ_CACHE_MAX_MB=0: every read a query."""
    off = app_mod.create_app(settings.model_copy(update={"read_cache_max_mb": 0}))
    other = await aiohttp_client(off, headers=ADMIN_HEADERS)
    await _wait(lambda: other.app[follow.LISTENER].connected)
    return other


async def test_the_cache_and_the_database_answer_alike(client, uncached) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    # Sent as text: numbers exactly as written, which both paths must give back as stored.
    exact = '{"name":"c","config":{"n":0.10,"big":12345678901234567890.50,"t":"é \u2028 😀"}}'
    body = {"application_id": app["id"], "name": "c", "config": {"v": 0}}
    cfg = await (await client.post(f"{API}/configurations", json=body)).json()
    reader = await _token(client, app["id"])
    app_path, cfg_path = f"{API}/applications/{app['id']}", f"{API}/configurations/{cfg['id']}"
    reads = [
        (app_path, {}), (cfg_path, {}),
        (cfg_path, {"If-None-Match": '"1"'}), (app_path, {"If-None-Match": 'W/"1", "7"'}),
        (cfg_path, {"If-None-Match": "*"}), (cfg_path, {"If-None-Match": '"2"'}),
        (cfg_path, {"Config-Min-Revision": "1"}), (f"{cfg_path}?min_revision=0", {}),
        (cfg_path, {"Authorization": f"Bearer {reader}"}),
        (f"{API}/configurations/{'0' * 26}", {}), (f"{API}/applications/nope", {}),
        (f"{API}/applications/{cfg['id']}", {}), (f"{API}/configurations/{app['id']}", {}),
        (cfg_path, {"Config-Min-Revision": "-1"}), (cfg_path, {"Authorization": "Bearer x"}),
    ]  # fmt: skip
    writes_ = [
        ("PUT", cfg_path, exact),
        ("POST", f"{API}/configurations", {**body, "name": "d"}),
        ("PUT", app_path, {"name": "renamed", "comments": "é"}),
        ("POST", f"{cfg_path}/rollback", {"to_version": 1}),
        ("DELETE", cfg_path, None),
    ]
    for method, path, payload in [(None, None, None), *writes_]:
        if method is not None:
            send = {"data": payload.encode()} if isinstance(payload, str) else {"json": payload}
            headers = {"Content-Type": "application/json"}
            assert (await client.request(method, path, headers=headers, **send)).status < 300
        await _caught_up(client)
        await _caught_up(uncached)
        hits = _sample(HITS, result="hit")
        for path_, headers in reads:
            first = await _answer(client, "GET", path_, headers=headers)
            again = await _answer(client, "GET", path_, headers=headers)
            database_ = await _answer(uncached, "GET", path_, headers=headers)
            assert first == again == database_, (method, path_, headers)
        assert _sample(HITS, result="hit") > hits, "the answers did come from the cache"


async def _token(client, app_id: str, access: str = "read") -> str:
    grants = [{"application_id": app_id, "access": access}]
    resp = await client.post(f"{API}/tokens", json={"name": "t", "grants": grants})
    assert resp.status == 201, await resp.text()
    return str((await resp.json())["token"])


async def test_a_cached_entry_is_never_served_to_a_token_that_may_not_read_it(client) -> None:
    mine = await (await client.post(f"{API}/applications", json={"name": "mine"})).json()
    theirs = await (await client.post(f"{API}/applications", json={"name": "theirs"})).json()
    body = {"application_id": theirs["id"], "name": "secret", "config": {"key": "hunter2"}}
    secret = await (await client.post(f"{API}/configurations", json=body)).json()
    await _caught_up(client)
    for path in (f"applications/{theirs['id']}", f"configurations/{secret['id']}"):
        assert (await client.get(f"{API}/{path}")).status == 200  # the admin fills the cache
        assert (await client.get(f"{API}/{path}")).status == 200
    assert len(client.app[cache.CACHE]) == 2
    reader = {"Authorization": f"Bearer {await _token(client, mine['id'])}"}
    for path, missing in (
        (f"applications/{theirs['id']}", f"applications/{'0' * 26}"),
        (f"configurations/{secret['id']}", f"configurations/{'0' * 26}"),
    ):
        refused = await client.get(f"{API}/{path}", headers={**reader, "If-None-Match": "*"})
        absent = await client.get(f"{API}/{missing}", headers=reader)
        assert refused.status == absent.status == 404
        text = (await refused.text()).replace(path.split("/")[1], "0" * 26)
        assert text == await absent.text(), "as if it did not exist"
        assert "hunter2" not in text


async def test_a_cached_read_and_its_304_need_no_database_connection(
    aiohttp_client, settings
) -> None:
    quick = settings.model_copy(update={"db_acquire_timeout_s": 0.2, "db_pool_max": 2})
    client = await aiohttp_client(app_mod.create_app(quick), headers=ADMIN_HEADERS)
    await _wait(lambda: client.app[follow.LISTENER].connected)
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"v": 1}}
    cfg = await (await client.post(f"{API}/configurations", json=body)).json()
    await _caught_up(client)
    path = f"{API}/configurations/{cfg['id']}"
    filled = await client.get(path)
    pool = client.app[database.DB].pool
    held = [await pool.acquire() for _ in range(2)]  # every connection the worker has
    try:
        hit = await client.get(path)
        assert (hit.status, await hit.read()) == (200, await filled.read())
        unmodified = await client.get(path, headers={"If-None-Match": hit.headers["ETag"]})
        assert unmodified.status == 304
        assert unmodified.headers["Config-Revision"] == hit.headers["Config-Revision"]
        miss = await client.get(f"{API}/applications/{app['id']}")
        assert miss.status == 503, "what was not cached did need the database"
    finally:
        for conn in held:
            await pool.release(conn)


async def test_a_bad_minimum_revision_is_a_422_naming_it_and_one_above_the_head_does_not_hang(
    client,
) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    path = f"{API}/applications/{app['id']}"
    # 2**63: 19 digits, one past the largest revision PostgreSQL's bigint (and the document) has.
    for bad in ("-1", "x", "1.5", "1e3", "9" * 20, str(2**63), "", "٣"):
        for headers, params, name in (
            ({"Config-Min-Revision": bad}, {}, "Config-Min-Revision"),
            ({}, {"min_revision": bad}, "min_revision"),
        ):
            resp = await client.get(path, headers=headers, params=params)
            assert resp.status == 422, bad
            assert [e["field"] for e in (await resp.json())["errors"]] == [name]
    head = await _caught_up(client)
    resp = await client.get(path, headers={"Config-Min-Revision": str(head + 1000)})
    assert resp.status == 200, "the database's state, with the revision it is at"
    assert resp.headers["Config-Revision"] == str(head)
    resp = await client.get(path, params={"min_revision": str(head)})
    assert (resp.status, resp.headers["Config-Revision"]) == (200, str(head))


# --- read-your-writes across workers ------------------------------------------------------


def _established(service) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Client port to socket inode of every established connection to the service."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if local == service.port and fields[3] == "01":
            found[remote] = fields[9]
    return found


def _owner(service, inode: str) -> int | None:  # type: ignore[no-untyped-def]
    """The worker holding the socket (its /proc/<pid>/fd names it)."""
    for pid in service.worker_pids():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return int(pid)
    return None


async def _pin(session: aiohttp.ClientSession, service, pid: int) -> None:  # type: ignore[no-untyped-def]
    """Make the session's one keep-alive connection one to worker ``pid``. The kernel hands
    each new connection to a worker of its choosing: reconnect until it is that one (the
    new connection is the one that was not there before)."""
    for _ in range(200):
        close = {"Connection": "close"}
        async with session.get(f"{service.url}/healthz", headers=close) as resp:
            await resp.read()
        before = await asyncio.to_thread(_established, service)
        async with session.get(f"{service.url}/healthz") as resp:
            await resp.read()
        after = await asyncio.to_thread(_established, service)
        (inode,) = [inode for port, inode in after.items() if port not in before]
        if await asyncio.to_thread(_owner, service, inode) == pid:
            return
    raise AssertionError(f"never connected to worker {pid}")


def _pinned_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), headers=ADMIN_HEADERS)


async def test_a_minimum_revision_reads_a_write_made_through_another_worker(
    service_factory,
) -> None:
    service = service_factory(workers=2, keepalive_timeout_s="60")
    one, two = service.worker_pids()
    async with _pinned_session() as writer, _pinned_session() as reader:
        await _pin(writer, service, one)
        await _pin(reader, service, two)
        url = f"{service.url}{API}"
        async with writer.post(f"{url}/applications", json={"name": "a"}) as resp:
            app = await resp.json()
        body = {"application_id": app["id"], "name": "c", "config": {"v": 0}}
        async with writer.post(f"{url}/configurations", json=body) as resp:
            path = f"{url}/configurations/{(await resp.json())['id']}"
        async with reader.get(path) as resp:  # filled in the reader's worker
            assert resp.status == 200
        for v in range(1, 31):
            async with writer.put(path, json={"name": "c", "config": {"v": v}}) as resp:
                written = int(resp.headers["Config-Revision"])
            wanted = {"Config-Min-Revision": str(written)}
            async with reader.get(path, headers=wanted) as resp:
                assert (await resp.json())["config"] == {"v": v}
                assert int(resp.headers["Config-Revision"]) >= written

        # The client does it by default: it sends the newest revision it wrote or saw.
        rest = api.ConfigClient(service.url, session=writer)
        await _pin(writer, service, one)
        app_id = app["id"]
        for v in range(5):
            await rest.replace_application(app_id, f"name-{v}")
            await _pin(writer, service, two)
            assert (await rest.get_application(app_id)).name == f"name-{v}"
            await _pin(writer, service, one)
        assert rest.revision == int(resp.headers["Config-Revision"]) + 5


async def _stop_listener(db) -> int:  # type: ignore[no-untyped-def]
    """Stop (SIGSTOP) the backend of this test database's change listener, so the worker's
    memory lags while its listener still looks connected; returns its pid for SIGCONT."""
    backend = int(await db.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
        " AND datname = current_database()",
        listener.APPLICATION_NAME,
    ))  # fmt: skip
    os.kill(backend, signal.SIGSTOP)
    return backend


async def test_a_minimum_revision_waits_for_a_lagging_listener_then_reads_the_database(
    aiohttp_client, settings, db, pooled
) -> None:
    """The listener's backend is stopped (SIGSTOP): this worker's memory lags behind a write
    made elsewhere. A plain read says so with its revision; a read at the write's revision
    waits MIN_REVISION_WAIT_MS and then asks the database."""
    patient = settings.model_copy(update={"min_revision_wait_ms": 50})
    client = await aiohttp_client(app_mod.create_app(patient), headers=ADMIN_HEADERS)
    await _wait(lambda: client.app[follow.LISTENER].connected)
    app = await application_writes.create_application(pooled, W, "app", "")
    fields = {"name": "c", "comments": "", "config": {"v": 0}}
    cfg = await configuration_writes.create_configuration(pooled, W, app["id"], fields)
    path = f"{API}/configurations/{cfg['id']}"
    await _caught_up(client)
    await client.get(path)
    backend = await _stop_listener(db)
    try:
        written = (await _put(pooled, cfg["id"], 1))["revision"]  # through another "worker"
        stale = await client.get(path)
        assert (await stale.json())["config"] == {"v": 0}, "memory, at the revision it says"
        assert int(stale.headers["Config-Revision"]) < written
        for wanted in ({"Config-Min-Revision": str(written)}, {"min_revision": str(written)}):
            params = wanted if "min_revision" in wanted else {}
            headers = {} if params else wanted
            fresh = await client.get(path, headers=headers, params=params)
            assert (await fresh.json())["config"] == {"v": 1}
            assert int(fresh.headers["Config-Revision"]) == written
    finally:
        os.kill(backend, signal.SIGCONT)
    await _caught_up(client)
    assert (await (await client.get(path)).json())["config"] == {"v": 1}


async def test_lists_say_the_revision_of_their_snapshot_and_check_a_minimum(client) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {}}
    made = await (await client.post(f"{API}/configurations", json=body)).json()
    for path in (f"{API}/applications", f"{API}/applications/{app['id']}/configurations"):
        resp = await client.get(path, headers={"Config-Min-Revision": str(made["revision"])})
        assert (resp.status, resp.headers["Config-Revision"]) == (200, str(made["revision"]))
        resp = await client.get(path, params={"min_revision": "soon"})
        assert resp.status == 422
        assert [e["field"] for e in (await resp.json())["errors"]] == ["min_revision"]
    past = await client.get(
        f"{API}/applications/{app['id']}/configurations",
        params={"at_revision": str(app["revision"])},
    )
    assert (await past.json())["items"] == []
    assert past.headers["Config-Revision"] == str(app["revision"]), "the state it shows"


async def test_a_worker_whose_listener_lags_still_answers_its_own_writes_from_every_path(
    client, db
) -> None:
    """The listener's backend is stopped (SIGSTOP), so memory lags: whatever wrote through
    this worker (a rollout's promotion, a PUT, a rollback) reads back what it wrote."""
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"v": 0}}
    cfg = await (await client.post(f"{API}/configurations", json=body)).json()
    path = f"{API}/configurations/{cfg['id']}"
    await _caught_up(client)
    await client.get(path)  # in memory at version 1
    backend = await _stop_listener(db)
    try:
        rollout = {"config": {"v": 2}, "reason": "r", "steps": [{"percent": 100}],
                   "abort_on": {"rejected": 1}}  # fmt: skip
        made = await client.post(f"{path}/rollouts", json=rollout, headers={"If-Match": '"1"'})
        assert made.status == 201, await made.text()
        promoted = await client.post(f"{path}/rollouts/{(await made.json())['id']}/promote",
                                     json={"reason": "ship"})  # fmt: skip
        assert (await promoted.json())["state"] == "promoted"
        now = await (await client.get(path)).json()
        assert (now["version"], now["config"]) == (2, {"v": 2}), "the promotion, not version 1"
        put = await client.put(path, json={"name": "c", "config": {"v": 3}},
                               headers={"If-Match": '"2"'})  # fmt: skip
        assert put.status == 200
        assert (await (await client.get(path)).json())["config"] == {"v": 3}
        back = await client.post(f"{path}/rollback", json={"to_version": 1})
        assert back.status in (200, 201), await back.text()
        assert (await (await client.get(path)).json())["config"] == {"v": 0}
    finally:
        os.kill(backend, signal.SIGCONT)
