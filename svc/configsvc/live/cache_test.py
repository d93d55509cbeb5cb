"""The read cache's rules: the fill-versus-change race forced both ways on a real database,
changes applied from the real change log, the byte bound, resets and waiting for a revision;
then as the API serves it: answers identical to the database's, permissions, a listener
outage, a reset, and read-your-writes from another worker."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from decimal import Decimal
from typing import Any

import asyncpg
import prometheus_client
import pytest

from configsvc import app as app_mod
from configsvc.db import database
from configsvc.live import cache, entries, follow
from configsvc.service import application_writes, configuration_writes, rollback, writing
from configsvc.store import applications, changes, configurations
from conftest import ADMIN_HEADERS

W = writing.Write()


def _fields(name: str = "c", config: Any = None) -> dict[str, Any]:
    return {"name": name, "comments": "", "config": {"v": 0} if config is None else config}


async def _head(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT revision FROM revision_counter"))


async def _following(db: asyncpg.Connection, max_bytes: int = 1 << 20) -> cache.ReadCache:
    """A cache as a worker's listener leaves it: live, at the head (and ``db`` decoding JSON
    as the pool's connections do)."""
    await database.init_connection(db)
    reads = cache.ReadCache(max_bytes)
    reads.revision = await _head(db)
    reads.following()
    return reads


async def _dispatch(db: asyncpg.Connection, reads: cache.ReadCache) -> None:
    """What the listener does: every logged change after the cache's revision, in order."""
    for entry in await changes.after(db, reads.revision):
        reads.apply(entry)


async def _fill(db: asyncpg.Connection, reads: cache.ReadCache, kind: str, id_: str) -> None:
    """A miss as the handler fills it: begin, read one snapshot, end, install."""
    get_at = configurations.get_at if kind == entries.CONFIG else applications.get_at
    fill = reads.begin(kind, id_)
    try:
        resource, at = await get_at(db, id_)
    finally:
        reads.end(fill)
    reads.install(fill, entries.entry_of(kind, resource, at))


async def _body(db: asyncpg.Connection, kind: str, id_: str) -> bytes:
    """What the database path answers now."""
    get_at = configurations.get_at if kind == entries.CONFIG else applications.get_at
    return entries.encode((await get_at(db, id_))[0])


def _held(reads: cache.ReadCache, kind: str, id_: str) -> dict[str, Any] | None:
    entry = reads.lookup(kind, id_)
    return None if entry is None else json.loads(entry.body)


@pytest.fixture
async def config(pooled: database.Database) -> dict[str, Any]:
    app = await application_writes.create_application(pooled, W, "app", "")
    return await configuration_writes.create_configuration(pooled, W, app["id"], _fields())


async def _put(pooled: database.Database, config_id: str, v: Any) -> dict[str, Any]:
    return await configuration_writes.replace_configuration(
        pooled, W, config_id, _fields(config={"v": v}), None
    )


# --- the race, forced both ways -----------------------------------------------------------


async def test_a_fill_that_read_before_a_dispatched_change_is_not_installed(
    pooled, db, config
) -> None:
    reads = await _following(db)
    fill = reads.begin(entries.CONFIG, config["id"])
    old, at = await configurations.get_at(db, config["id"])  # the snapshot before the change
    await _put(pooled, config["id"], 1)
    await _dispatch(db, reads)  # the listener dispatches it before the fill installs
    reads.end(fill)
    reads.install(fill, entries.entry_of(entries.CONFIG, old, at))
    assert _held(reads, entries.CONFIG, config["id"]) is None, "an entry older than a change"

    await _fill(db, reads, entries.CONFIG, config["id"])  # the next miss fills the new state
    assert _held(reads, entries.CONFIG, config["id"])["config"] == {"v": 1}


async def test_a_change_dispatched_after_a_fill_began_but_before_it_read_is_in_what_it_read(
    pooled, db, config
) -> None:
    reads = await _following(db)
    fill = reads.begin(entries.CONFIG, config["id"])
    changed = await _put(pooled, config["id"], 1)
    await _dispatch(db, reads)
    resource, at = await configurations.get_at(db, config["id"])
    assert at >= changed["revision"]
    reads.end(fill)
    reads.install(fill, entries.entry_of(entries.CONFIG, resource, at))
    assert _held(reads, entries.CONFIG, config["id"])["config"] == {"v": 1}


async def test_a_fill_newer_than_the_listener_is_not_rolled_back_by_older_changes(
    pooled, db, config
) -> None:
    reads = await _following(db)
    await _put(pooled, config["id"], 1)
    await _put(pooled, config["id"], 2)
    await _fill(db, reads, entries.CONFIG, config["id"])  # reads v=2, not yet dispatched
    for entry in await changes.after(db, reads.revision):
        reads.apply(entry)
        assert _held(reads, entries.CONFIG, config["id"])["config"] == {"v": 2}
    await _put(pooled, config["id"], 3)
    await _dispatch(db, reads)
    assert _held(reads, entries.CONFIG, config["id"])["config"] == {"v": 3}


async def test_every_change_leaves_the_entries_equal_to_the_database(pooled, db) -> None:
    app = await application_writes.create_application(pooled, W, "app", "")
    keep = await configuration_writes.create_configuration(pooled, W, app["id"], _fields("keep"))
    gone = await configuration_writes.create_configuration(pooled, W, app["id"], _fields("gone"))
    past = await _head(db)
    reads = await _following(db)
    await _fill(db, reads, entries.APP, app["id"])
    await _fill(db, reads, entries.CONFIG, keep["id"])
    exact = {"n": Decimal("0.10"), "big": Decimal("12345678901234567890.50"), "t": "é\u2028"}
    renamed = {"name": "r", "comments": ""}
    steps = [
        lambda: _put(pooled, keep["id"], exact),
        lambda: configuration_writes.create_configuration(pooled, W, app["id"], _fields("new")),
        lambda: configuration_writes.delete_configuration(pooled, W, gone["id"], None),
        lambda: application_writes.replace_application(pooled, W, app["id"], renamed, None),
        lambda: rollback.application(pooled, W, app["id"], past),  # "new" goes, "gone" is back
        lambda: rollback.configuration(pooled, W, keep["id"], 1, None),
    ]
    for step in steps:
        await step()
        await _dispatch(db, reads)
        for kind, id_ in ((entries.APP, app["id"]), (entries.CONFIG, keep["id"])):
            held = reads.lookup(kind, id_)
            assert held is not None, kind
            assert held.body == await _body(db, kind, id_), kind


async def test_an_unknown_op_or_a_deleted_application_forgets_it_and_its_configurations(
    pooled, db, config
) -> None:
    reads = await _following(db)
    await _fill(db, reads, entries.APP, config["application_id"])
    await _fill(db, reads, entries.CONFIG, config["id"])
    assert len(reads) == 2
    # An op this worker does not know (a newer version's), numbered so the log stays in step.
    reads.apply(changes.Entry(reads.revision, config["application_id"], "schema", "{}"))
    assert len(reads) == 0
    assert reads.bytes == 0
    await _fill(db, reads, entries.CONFIG, config["id"])
    fill = reads.begin(entries.CONFIG, config["id"])  # in flight when the application goes
    await application_writes.delete_application(pooled, W, config["application_id"], None)
    await _dispatch(db, reads)
    assert len(reads) == 0
    reads.end(fill)
    reads.install(fill, entries.entry_of(entries.CONFIG, config, reads.revision - 1))
    assert len(reads) == 0


# --- bounds, resets, waiting ----------------------------------------------------------------


def _resource(n: int, size: int = 1000) -> dict[str, Any]:
    return {"id": f"C{n:025d}", "application_id": "A" * 26, "name": f"c{n}", "comments": "",
            "config": {"pad": "x" * size}, "version": 1, "revision": n}  # fmt: skip


def _install(reads: cache.ReadCache, n: int) -> None:
    resource = _resource(n)
    fill = reads.begin(entries.CONFIG, resource["id"])
    reads.end(fill)
    reads.install(fill, entries.entry_of(entries.CONFIG, resource, n))


def test_the_byte_bound_holds_and_the_least_recently_used_go_first() -> None:
    one = entries.entry_of(entries.CONFIG, _resource(999), 0).size  # the longest of them
    reads = cache.ReadCache(10 * one)
    reads.following()
    evictions = _sample("configsvc_read_cache_evictions_total")
    for n in range(10):
        _install(reads, n)
    assert reads.lookup(entries.CONFIG, _resource(0)["id"]) is not None  # 0 is now the newest
    for n in range(10, 1000):  # a workload 100 times the bound
        _install(reads, n)
        assert reads.bytes <= reads.max_bytes
    assert len(reads) == 10
    assert _sample("configsvc_read_cache_evictions_total") == evictions + 990
    reads = cache.ReadCache(10 * one)
    reads.following()
    for n in range(11):
        if n == 10:
            reads.lookup(entries.CONFIG, _resource(0)["id"])
        _install(reads, n)
    assert reads.lookup(entries.CONFIG, _resource(0)["id"]) is not None, "recently read: kept"
    assert reads.lookup(entries.CONFIG, _resource(1)["id"]) is None, "least recently used: gone"


def test_zero_bytes_turns_it_off_and_a_lost_listener_stops_it_serving() -> None:
    off = cache.ReadCache(0)
    off.following()
    assert off.begin(entries.CONFIG, "x") is None
    assert not off.serving()
    on = cache.ReadCache(1 << 20)
    assert not on.serving(), "not before the listener has caught up"
    on.following()
    assert on.serving()
    assert not on.serving(min_revision=1)
    on.lost()
    assert on.begin(entries.CONFIG, "x") is None
    assert not on.serving()


def test_a_reset_drops_everything_and_voids_fills_in_flight() -> None:
    reads = cache.ReadCache(1 << 20)
    reads.following()
    _install(reads, 1)
    fill = reads.begin(entries.CONFIG, _resource(2)["id"])
    reads.drop(revision=3)
    assert (len(reads), reads.bytes, reads.revision) == (0, 0, 3)
    reads.end(fill)
    reads.install(fill, entries.entry_of(entries.CONFIG, _resource(2), 3))
    assert len(reads) == 0


async def test_waiting_for_a_revision_ends_when_it_is_applied_or_at_the_bound() -> None:
    reads = cache.ReadCache(1 << 20)
    assert await reads.reach(0, 0.01)
    assert not await reads.reach(1, 0.01)
    waiting = asyncio.create_task(reads.reach(2, 30))
    other = asyncio.create_task(reads.reach(3, 30))
    await asyncio.sleep(0)
    reads.apply(changes.Entry(1, "A", "application_created", "{}"))
    await asyncio.sleep(0)
    assert not waiting.done()
    reads.apply(changes.Entry(2, "A", "application_created", "{}"))
    assert await waiting
    reads.drop(revision=7)  # a reset moves the revision too
    assert await other
    for _ in range(100):  # a revision that never comes, asked for again and again
        assert not await reads.reach(10**9, 0.001)
    assert reads._waiters == [], "nothing kept for those who gave up"


def _sample(name: str, **labels: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0


# --- with the listener: an outage, a reset ---------------------------------------------------

API = "/api/v1"
HITS = "configsvc_read_cache_lookups_total"


async def _wait(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def _caught_up(client) -> int:
    """The head, once this server's listener has applied it."""
    async with client.app[database.DB].connection() as conn:
        head, _ = await changes.counter(conn)
    await _wait(lambda: client.app[cache.CACHE].revision >= head)
    return head


async def test_while_the_listener_is_away_reads_go_to_the_database_and_it_recovers(
    aiohttp_client, settings, db, database_url
) -> None:
    """The listener logs in as a role of its own, which is then refused connections: the pool
    keeps working, the listener cannot follow."""
    role = f"listener_{abs(hash(database_url)) % 10**8}"
    await db.execute(f"CREATE ROLE {role} LOGIN")
    await db.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}")  # it migrates, too
    await db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    parts = urllib.parse.urlsplit(database_url)
    listen_url = parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}").geturl()
    update = {"listen_database_url": listen_url, "listener_probe_s": 0.5}
    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update=update)), headers=ADMIN_HEADERS
    )
    follower, reads = client.app[follow.LISTENER], client.app[cache.CACHE]
    try:
        await _wait(lambda: follower.connected)
        app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
        body = {"application_id": app["id"], "name": "c", "config": {"v": 1}}
        cfg = await (await client.post(f"{API}/configurations", json=body)).json()
        path = f"{API}/configurations/{cfg['id']}"
        await _caught_up(client)
        await client.get(path)
        assert len(reads) == 1

        await db.execute(f"ALTER ROLE {role} CONNECTION LIMIT 0")
        await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
        )
        await _wait(lambda: not follower.connected)
        assert not reads.serving()
        put = await client.put(path, json={"name": "c", "config": {"v": 2}})
        written = int(put.headers["Config-Revision"])
        for _ in range(3):  # not a hit: the entry in memory still says v=1
            resp = await client.get(path)
            assert (await resp.json())["config"] == {"v": 2}
            assert int(resp.headers["Config-Revision"]) == written
        assert json.loads(reads._entries[(entries.CONFIG, cfg["id"])].body)["config"] == {"v": 1}

        await db.execute(f"ALTER ROLE {role} CONNECTION LIMIT -1")
        await _wait(lambda: follower.connected and reads.revision >= written)
        hits = _sample(HITS, result="hit")
        resp = await client.get(path)
        assert (await resp.json())["config"] == {"v": 2}
        assert _sample(HITS, result="hit") == hits + 1, "served from memory again, caught up"
    finally:
        await client.close()
        await db.execute(f"DROP OWNED BY {role}")
        await db.execute(f"DROP ROLE IF EXISTS {role}")


async def test_a_rewound_revision_counter_drops_the_cache(client, db) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"v": 0}}
    cfg = await (await client.post(f"{API}/configurations", json=body)).json()
    path = f"{API}/configurations/{cfg['id']}"
    for v in (1, 2, 3):
        await client.put(path, json={"name": "c", "config": {"v": v}})
    await _caught_up(client)
    await client.get(path)
    reads = client.app[cache.CACHE]
    assert len(reads) == 1
    resets = _sample("configsvc_feed_resets_total", reason="rewound")
    async with db.transaction():  # a failover to a replica that had only reached revision 2
        await db.execute("UPDATE revision_counter SET revision = 2")
        await db.execute("DELETE FROM changes WHERE revision > 2")
        await db.execute("UPDATE configurations SET config = '{\"v\": 0}', version = 1")
    await db.execute("SELECT pg_notify($1, '')", changes.CHANNEL)
    await _wait(lambda: _sample("configsvc_feed_resets_total", reason="rewound") > resets)
    assert (len(reads), reads.revision) == (0, 2)
    resp = await client.get(path)
    assert (await resp.json())["config"] == {"v": 0}
    assert resp.headers["Config-Revision"] == "2"


def test_a_change_the_cache_cannot_read_forgets_its_application_and_moves_on() -> None:
    reads = cache.ReadCache(1 << 20)
    reads.following()
    _install(reads, 1)
    app_id = _resource(1)["application_id"]
    reads.apply(changes.Entry(5, app_id, "updated", '{"id": "x"}'))  # no application_id
    assert (len(reads), reads.revision) == (0, 5), "forgotten, not stuck"


async def test_a_schema_change_is_seen_by_a_cached_configuration_at_once(client) -> None:
    """A forced schema turns a configuration's schema_status without a new version of it: the
    cached body must not keep saying "none"."""
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"port": "80"}}
    cfg = await (await client.post(f"{API}/configurations", json=body)).json()
    path = f"{API}/configurations/{cfg['id']}"
    await _caught_up(client)
    await client.get(path)
    hits = _sample(HITS, result="hit")
    assert (await (await client.get(path)).json())["schema_status"] == "none"
    assert _sample(HITS, result="hit") == hits + 1, "the configuration is served from memory"

    schema = {"type": "object", "properties": {"port": {"type": "integer"}}}
    put = await client.put(f"{API}/applications/{app['id']}/schemas/c?force=true", json=schema)
    assert put.status == 201
    resp = await client.get(path)
    shown = await resp.json()
    assert (shown["version"], shown["schema_status"]) == (1, "invalid")
    assert int(resp.headers["Config-Revision"]) >= int(put.headers["Config-Revision"])
