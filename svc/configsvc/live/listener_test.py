"""The listener survives what production does to it: killed backends and a restarted server."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp
import asyncpg
import prometheus_client
import pytest

from configsvc import app as app_mod
from configsvc.db import migrations
from configsvc.devtools import pgcluster
from configsvc.live import follow, hub, listener
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

    reconnects = _sample("configsvc_listener_reconnects_total")
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
    await _wait(lambda: client.app[follow.LISTENER].connected)
    await _wait(lambda: _sample("configsvc_listener_reconnects_total") >= reconnects + 3)
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
    await _wait(lambda: client.app[follow.LISTENER].connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)

    await asyncio.to_thread(own_cluster.stop)
    await _wait(lambda: not client.app[follow.LISTENER].connected)
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert any("listener" in r for r in (await resp.json())["reasons"])
    resp = await client.post("/api/v1/applications", json={"name": "while-down"})
    assert resp.status == 503, "a lost database is a 503 to retry, never a 500"

    await asyncio.to_thread(own_cluster.start, fast=True)
    await _wait(lambda: client.app[follow.LISTENER].connected)
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
    follower = client.app[follow.LISTENER]
    resets = _sample("configsvc_feed_resets_total", reason="pruned")
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
    assert _sample("configsvc_feed_resets_total", reason="pruned") == resets + 1


def _sample(name: str, **labels: str) -> float:
    """A metric of this process (the in-process server's), 0 before its first increment."""
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0


BOGUS = """
WITH head AS (UPDATE revision_counter SET revision = revision + 1 RETURNING revision)
INSERT INTO changes (revision, application_id, op, resource)
SELECT revision, $1, 'bogus', '{"id": "x"}' FROM head
RETURNING revision
"""


async def _log_a_change_of_a_newer_release(db: asyncpg.Connection, app_id: str) -> int:
    """An entry with an op this release does not know, as a newer release writes in a
    rolling deploy."""
    await db.execute("ALTER TABLE changes DROP CONSTRAINT changes_op_check")
    revision: int = await db.fetchval(BOGUS, app_id)
    await db.execute("SELECT pg_notify('configsvc_changes', '')")
    return revision


async def _break_the_log(db: asyncpg.Connection) -> None:
    """The listener's read of the log fails for a reason other than an outage (as a schema
    this release does not match would make it)."""
    await db.execute("ALTER TABLE changes RENAME COLUMN reason TO reason_moved")
    await db.execute("SELECT pg_notify('configsvc_changes', '')")


async def _mend_the_log(db: asyncpg.Connection) -> None:
    await db.execute("ALTER TABLE changes RENAME COLUMN reason_moved TO reason")


async def test_an_unknown_op_is_skipped_and_its_subscribers_start_over_from_a_snapshot(
    client, db, caplog
) -> None:
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    other = await (await client.post("/api/v1/applications", json={"name": "b"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    since = (await recv(ws))["revision"]
    bystander = await client.ws_connect("/api/v1/ws")
    await bystander.send_json({"type": "subscribe", "application_id": other["id"]})
    await recv(bystander)
    resets = _sample("configsvc_feed_resets_total", reason="unknown_op")

    newer = await _log_a_change_of_a_newer_release(db, app["id"])
    msg = await ws.receive(timeout=10)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, listener.CLOSE_SERVICE_RESTART)
    # Resuming from before it: a reset snapshot, never "internal" (the catch-up cannot frame it).
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": since})
    snapshot = await recv(ws)
    assert (snapshot["type"], snapshot.get("reset"), snapshot["revision"]) == (
        "snapshot", True, newer,
    )  # fmt: skip
    assert follower.connected, "the listener never stopped following"
    body = {"application_id": app["id"], "name": "c", "config": {"n": 1}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    assert (await recv(ws))["revision"] == cfg["revision"]
    body = {"application_id": other["id"], "name": "c", "config": {}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    assert (await recv(bystander))["revision"] == cfg["revision"], "other apps were untouched"
    assert _sample("configsvc_feed_resets_total", reason="unknown_op") == resets + 1
    warned = [r for r in caplog.records if "unknown to this release" in r.getMessage()]
    assert len(warned) == 1
    await ws.close()
    await bystander.close()


async def test_a_log_the_listener_cannot_read_is_logged_and_retried(
    aiohttp_client, settings, db, caplog
) -> None:
    patient = settings.model_copy(update={"listener_max_failures": 1000})
    client = await aiohttp_client(app_mod.create_app(patient), headers=ADMIN_HEADERS)
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)
    await _break_the_log(db)

    def failures() -> list[logging.LogRecord]:
        return [r for r in caplog.records if "change listener failed" in r.getMessage()]

    try:
        await _wait(lambda: len(failures()) >= 2)  # logged with its traceback, and tried again
        assert failures()[0].exc_info is not None
        assert not follower.connected, "not ready while it cannot follow the log"
    finally:
        await _mend_the_log(db)
    await _wait(lambda: follower.connected)  # mended: the retry follows again
    body = {"application_id": app["id"], "name": "c", "config": {}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    assert (await recv(ws, timeout=20))["revision"] == cfg["revision"]
    await ws.close()


async def test_a_listener_that_keeps_failing_resets_subscribers_and_its_worker_restarts(
    service_factory, db
) -> None:
    service = service_factory(listener_max_failures="2")
    (worker,) = service.worker_pids()
    async with aiohttp.ClientSession(headers=ADMIN_HEADERS) as session:
        url = f"{service.url}/api/v1"
        async with session.post(f"{url}/applications", json={"name": "a"}) as resp:
            app = await resp.json()
        ws = await session.ws_connect(f"{url}/ws")
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        await recv(ws)
        await _break_the_log(db)
        try:
            msg = await ws.receive(timeout=30)
            assert (msg.type, msg.data) == (
                aiohttp.WSMsgType.CLOSE, listener.CLOSE_SERVICE_RESTART,
            )  # fmt: skip
        finally:
            await _mend_the_log(db)
        await _wait(lambda: service.worker_pids() not in ([], [worker]), timeout=60)
        await asyncio.to_thread(service.wait_ready)  # the new worker follows from the head

        ws = await session.ws_connect(f"{url}/ws")
        await ws.send_json({"type": "subscribe", "application_id": app["id"]})
        assert (await recv(ws))["type"] == "snapshot"
        body = {"application_id": app["id"], "name": "c", "config": {}}
        async with session.post(f"{url}/configurations", json=body) as resp:
            cfg = await resp.json()
        assert (await recv(ws))["revision"] == cfg["revision"]
        await ws.close()


async def test_a_rewound_revision_counter_resets_subscribers_who_then_see_new_changes(
    client, db
) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"v": 0}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    url = f"/api/v1/configurations/{cfg['id']}"
    for v in range(1, 5):
        seen = await (await client.put(url, json={"name": "c", "config": {"v": v}})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    assert (await recv(ws))["revision"] == seen["revision"] == 6

    # A failover to a replica that had only reached revision 3: what follows reuses 4, 5, 6.
    async with db.transaction():
        await db.execute("UPDATE revision_counter SET revision = 3")
        await db.execute("DELETE FROM changes WHERE revision > 3")
    after = await (await client.put(url, json={"name": "c", "config": {"v": "new"}})).json()
    assert after["revision"] == 4
    msg = await ws.receive(timeout=20)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, listener.CLOSE_SERVICE_RESTART)

    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"], "since": 6})
    snap = await recv(ws)
    assert (snap["type"], snap["reset"], snap["revision"]) == ("snapshot", True, 4)
    assert snap["configurations"][0]["config"] == {"v": "new"}
    for v in ("newer", "newest"):
        change = await (await client.put(url, json={"name": "c", "config": {"v": v}})).json()
        assert (await recv(ws))["revision"] == change["revision"]
    await ws.close()


async def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(
    aiohttp_client, settings, database_outage, caplog
) -> None:
    caplog.set_level(logging.INFO)
    quick = settings.model_copy(update={"listener_probe_s": 0.2, "prune_interval_s": 0.1})
    client = await aiohttp_client(app_mod.create_app(quick))
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    caplog.clear()
    async with database_outage():
        await _wait(lambda: not follower.connected)
        await asyncio.sleep(3)  # an outage long enough for dozens of retries

    def lines(logger: str) -> list[str]:
        return [r.getMessage() for r in caplog.records
                if r.name == logger and r.levelno >= logging.INFO]  # fmt: skip

    await _wait(lambda: len(lines("configsvc.ops.pruning")) >= 2 and follower.connected)
    for logger in ("configsvc.live.listener", "configsvc.ops.pruning"):
        started, ended = lines(logger)
        assert "database unavailable" in started
        assert "database back after" in ended
    assert not [r for r in caplog.records if r.name.startswith("configsvc") and r.exc_info]


async def test_a_prune_while_the_listener_reads_the_log_loses_nothing_unnoticed(
    aiohttp_client, settings, database_url, db_proxy, db
) -> None:
    """The prune mark and the entries come from one snapshot: a prune that commits between
    the listener's check and its read cannot remove what the check said was there."""
    cut_off = settings.model_copy(update={"listen_database_url": db_proxy.url(database_url)})
    client = await aiohttp_client(app_mod.create_app(cut_off), headers=ADMIN_HEADERS)
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    await recv(ws)
    db_proxy.cut()
    await _wait(lambda: not follower.connected)
    written = []
    for n in range(3):  # while the listener is away
        body = {"application_id": app["id"], "name": f"c{n}", "config": {}}
        written.append(await (await client.post("/api/v1/configurations", json=body)).json())

    pruner = db
    async with pruner.transaction():
        await pruner.execute("LOCK TABLE changes IN ACCESS EXCLUSIVE MODE")
        db_proxy.mend()  # the listener reconnects, checks the mark, then waits for the lock
        async with asyncio.timeout(20):
            # (statistics are a snapshot per transaction until cleared)
            while not await pruner.fetchval(
                "SELECT count(*) FROM pg_stat_clear_snapshot(), pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()"
                " AND wait_event_type = 'Lock'",
                listener.APPLICATION_NAME,
            ):
                await asyncio.sleep(0.02)
        await pruner.execute(
            "WITH gone AS (DELETE FROM changes WHERE revision <= $1 RETURNING revision)"
            " UPDATE revision_counter SET pruned_through = $1", written[1]["revision"]
        )  # fmt: skip
    got = [await recv(ws, timeout=20) for _ in written]
    assert [m["revision"] for m in got] == [w["revision"] for w in written], "none lost"
    await ws.close()


async def test_a_history_that_changed_while_the_listener_was_away_resets_everything(
    aiohttp_client, settings, database_url, db_proxy, db
) -> None:
    """A failover to a standby that lagged: the counter is past this worker's head again, but
    the entry at its head is another change. Subscribers and the read cache start over."""
    cut_off = settings.model_copy(update={"listen_database_url": db_proxy.url(database_url)})
    client = await aiohttp_client(app_mod.create_app(cut_off), headers=ADMIN_HEADERS)
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"n": 1}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    assert (await client.get(f"/api/v1/configurations/{cfg['id']}")).status == 200  # cached
    ws = await client.ws_connect("/api/v1/ws")
    await ws.send_json({"type": "subscribe", "application_id": app["id"]})
    snapshot = await recv(ws)
    await _wait(lambda: follower.last == cfg["revision"])
    assert follower.last_id == snapshot["entry_id"]
    resets = _sample("configsvc_feed_resets_total", reason="diverged")

    db_proxy.cut()
    await _wait(lambda: not follower.connected)
    # The new primary's history: the same revision holds another change, and one more follows.
    await db.execute(
        "UPDATE changes SET entry_id = gen_random_uuid() WHERE revision = $1", cfg["revision"]
    )
    await db.execute("UPDATE configurations SET config = '{\"n\": 2}' WHERE id = $1", cfg["id"])
    other = await (await client.post("/api/v1/applications", json={"name": "b"})).json()
    db_proxy.mend()

    msg = await ws.receive(timeout=20)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, listener.CLOSE_SERVICE_RESTART)
    await _wait(lambda: follower.connected)
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "history changed" in " ".join((await ready.json())["reasons"])
    assert _sample("configsvc_feed_resets_total", reason="diverged") == resets + 1
    got = await (await client.get(f"/api/v1/configurations/{cfg['id']}")).json()
    assert got["config"] == {"n": 2}, "the read cache was dropped, not served from memory"
    assert follower.last == other["revision"]


def test_importing_the_listener_loads_no_layer_above_it() -> None:
    """Counting a metric must not drag in the HTTP side: the listener (and everything that
    counts) imports ops/metrics.py, which imports nothing of api/, auth/ or service/."""
    code = (
        "import sys, configsvc.live.listener\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[:2] in"
        " (['configsvc', 'api'], ['configsvc', 'auth'], ['configsvc', 'service'])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == []


# BATCH entries no subscriber sees, as if logged while the listener was away.
MISSED = """
WITH logged AS (
    INSERT INTO changes (revision, application_id, op, resource)
    SELECT n, 'a', 'application_created', '{"id": "a"}' FROM generate_series(1, $1::int) n
)
UPDATE revision_counter SET revision = $1
"""


async def test_a_long_catch_up_lets_the_worker_serve_meanwhile(database_url, db) -> None:
    """Requests and sockets of the worker run while a thousand missed entries are dispatched,
    not only before and after them."""
    await db.execute(MISSED, listener.BATCH)
    fanout = hub.Hub()
    seen: list[object] = []
    fanout.observers.append(seen.append)
    follower = listener.Listener(database_url, fanout, probe_s=5.0)
    follower.last = 0
    progress: list[int] = []  # how far the catch-up was whenever something else ran

    async def meanwhile() -> None:
        while True:
            progress.append(len(seen))
            await asyncio.sleep(0)

    other = asyncio.create_task(meanwhile())
    conn = await asyncpg.connect(database_url)
    try:
        await follower._catch_up(conn)
    finally:
        other.cancel()
        await conn.close()
    assert len(seen) == listener.BATCH
    assert [n for n in progress if 0 < n < listener.BATCH], "something ran in between"


async def test_an_unknown_op_leaves_the_worker_ready(client, db) -> None:
    follower = client.app[follow.LISTENER]
    await _wait(lambda: follower.connected)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    newer = await _log_a_change_of_a_newer_release(db, app["id"])
    await _wait(lambda: (follower.last or 0) >= newer)
    for _ in range(10):  # a listener failing on it would be down within the first backoffs
        resp = await client.get("/readyz")
        assert resp.status == 200, await resp.text()
        await asyncio.sleep(0.1)


def test_every_reset_reason_is_counted_from_zero() -> None:
    """An alert on the first unknown op (or diverged history) must see the series before it:
    checked in a new process, before any reset."""
    code = (
        "import prometheus_client, configsvc.live.listener\n"
        "print(prometheus_client.generate_latest().decode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    for reason in ("unknown_op", "diverged"):
        assert f'configsvc_feed_resets_total{{reason="{reason}"}} 0.0' in done.stdout.splitlines()
