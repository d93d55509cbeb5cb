"""The read cache's rules: the fill-versus-change race forced both ways on a real database,
changes applied from the real change log, the byte bound, resets and waiting for a revision.

The handlers' side (identical answers, permissions, outages, other workers) is in
api/readcache_test.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import prometheus_client
import pytest

from configsvc.db import database
from configsvc.live import cache
from configsvc.service import rollback, writes
from configsvc.store import applications, changes, configurations

W = writes.Write()


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
    get_at = configurations.get_at if kind == cache.CONFIG else applications.get_at
    fill = reads.begin(kind, id_)
    try:
        resource, at = await get_at(db, id_)
    finally:
        reads.end(fill)
    reads.install(fill, cache.entry_of(kind, resource, at))


async def _body(db: asyncpg.Connection, kind: str, id_: str) -> bytes:
    """What the database path answers now."""
    get_at = configurations.get_at if kind == cache.CONFIG else applications.get_at
    return cache.encode((await get_at(db, id_))[0])


def _held(reads: cache.ReadCache, kind: str, id_: str) -> dict[str, Any] | None:
    entry = reads.lookup(kind, id_)
    return None if entry is None else json.loads(entry.body)


@pytest.fixture
async def config(pooled: database.Database) -> dict[str, Any]:
    app = await writes.create_application(pooled, W, "app", "")
    return await writes.create_configuration(pooled, W, app["id"], _fields())


async def _put(pooled: database.Database, config_id: str, v: Any) -> dict[str, Any]:
    return await writes.replace_configuration(pooled, W, config_id, _fields(config={"v": v}), None)


# --- the race, forced both ways -----------------------------------------------------------


async def test_a_fill_that_read_before_a_dispatched_change_is_not_installed(
    pooled, db, config
) -> None:
    reads = await _following(db)
    fill = reads.begin(cache.CONFIG, config["id"])
    old, at = await configurations.get_at(db, config["id"])  # the snapshot before the change
    await _put(pooled, config["id"], 1)
    await _dispatch(db, reads)  # the listener dispatches it before the fill installs
    reads.end(fill)
    reads.install(fill, cache.entry_of(cache.CONFIG, old, at))
    assert _held(reads, cache.CONFIG, config["id"]) is None, "an entry older than a change"

    await _fill(db, reads, cache.CONFIG, config["id"])  # the next miss fills the new state
    assert _held(reads, cache.CONFIG, config["id"])["config"] == {"v": 1}


async def test_a_change_dispatched_after_a_fill_began_but_before_it_read_is_in_what_it_read(
    pooled, db, config
) -> None:
    reads = await _following(db)
    fill = reads.begin(cache.CONFIG, config["id"])
    changed = await _put(pooled, config["id"], 1)
    await _dispatch(db, reads)
    resource, at = await configurations.get_at(db, config["id"])
    assert at >= changed["revision"]
    reads.end(fill)
    reads.install(fill, cache.entry_of(cache.CONFIG, resource, at))
    assert _held(reads, cache.CONFIG, config["id"])["config"] == {"v": 1}


async def test_a_fill_newer_than_the_listener_is_not_rolled_back_by_older_changes(
    pooled, db, config
) -> None:
    reads = await _following(db)
    await _put(pooled, config["id"], 1)
    await _put(pooled, config["id"], 2)
    await _fill(db, reads, cache.CONFIG, config["id"])  # reads v=2, not yet dispatched
    for entry in await changes.after(db, reads.revision):
        reads.apply(entry)
        assert _held(reads, cache.CONFIG, config["id"])["config"] == {"v": 2}
    await _put(pooled, config["id"], 3)
    await _dispatch(db, reads)
    assert _held(reads, cache.CONFIG, config["id"])["config"] == {"v": 3}


async def test_every_change_leaves_the_entries_equal_to_the_database(pooled, db) -> None:
    app = await writes.create_application(pooled, W, "app", "")
    keep = await writes.create_configuration(pooled, W, app["id"], _fields("keep"))
    gone = await writes.create_configuration(pooled, W, app["id"], _fields("gone"))
    past = await _head(db)
    reads = await _following(db)
    await _fill(db, reads, cache.APP, app["id"])
    await _fill(db, reads, cache.CONFIG, keep["id"])
    exact = {"n": 0.1, "big": 12345678901234567890.50, "text": "é\u2028", "deep": [[{}]]}
    steps = [
        lambda: _put(pooled, keep["id"], exact),
        lambda: writes.create_configuration(pooled, W, app["id"], _fields("new")),
        lambda: writes.delete_configuration(pooled, W, gone["id"], None),
        lambda: writes.replace_application(pooled, W, app["id"], {"name": "r", "comments": ""}, None),
        lambda: rollback.application(pooled, W, app["id"], past),  # "new" goes, "gone" is back
        lambda: rollback.configuration(pooled, W, keep["id"], 1, None),
    ]
    for step in steps:
        await step()
        await _dispatch(db, reads)
        for kind, id_ in ((cache.APP, app["id"]), (cache.CONFIG, keep["id"])):
            held = reads.lookup(kind, id_)
            assert held is not None, kind
            assert held.body == await _body(db, kind, id_), kind


async def test_an_unknown_op_or_a_deleted_application_forgets_it_and_its_configurations(
    pooled, db, config
) -> None:
    reads = await _following(db)
    await _fill(db, reads, cache.APP, config["application_id"])
    await _fill(db, reads, cache.CONFIG, config["id"])
    assert len(reads) == 2
    # An op this worker does not know (a newer version's), numbered so the log stays in step.
    reads.apply(changes.Entry(reads.revision, config["application_id"], "schema", "{}"))
    assert len(reads) == 0 and reads.bytes == 0
    await _fill(db, reads, cache.CONFIG, config["id"])
    fill = reads.begin(cache.CONFIG, config["id"])  # in flight when the application goes
    await writes.delete_application(pooled, W, config["application_id"], None)
    await _dispatch(db, reads)
    assert len(reads) == 0
    reads.end(fill)
    reads.install(fill, cache.entry_of(cache.CONFIG, config, reads.revision - 1))
    assert len(reads) == 0


# --- bounds, resets, waiting ----------------------------------------------------------------


def _resource(n: int, size: int = 1000) -> dict[str, Any]:
    return {"id": f"C{n:025d}", "application_id": "A" * 26, "name": f"c{n}", "comments": "",
            "config": {"pad": "x" * size}, "version": 1, "revision": n}  # fmt: skip


def _install(reads: cache.ReadCache, n: int) -> None:
    resource = _resource(n)
    fill = reads.begin(cache.CONFIG, resource["id"])
    reads.end(fill)
    reads.install(fill, cache.entry_of(cache.CONFIG, resource, n))


def test_the_byte_bound_holds_and_the_least_recently_used_go_first() -> None:
    one = cache.entry_of(cache.CONFIG, _resource(999), 0).size  # the longest of them
    reads = cache.ReadCache(10 * one)
    reads.following()
    evictions = _sample("configsvc_read_cache_evictions_total")
    for n in range(10):
        _install(reads, n)
    assert reads.lookup(cache.CONFIG, _resource(0)["id"]) is not None  # 0 is now the newest
    for n in range(10, 1000):  # a workload 100 times the bound
        _install(reads, n)
        assert reads.bytes <= reads.max_bytes
    assert len(reads) == 10
    assert _sample("configsvc_read_cache_evictions_total") == evictions + 990
    reads = cache.ReadCache(10 * one)
    reads.following()
    for n in range(11):
        if n == 10:
            reads.lookup(cache.CONFIG, _resource(0)["id"])
        _install(reads, n)
    assert reads.lookup(cache.CONFIG, _resource(0)["id"]) is not None, "recently read: kept"
    assert reads.lookup(cache.CONFIG, _resource(1)["id"]) is None, "least recently used: gone"


def test_zero_bytes_turns_it_off_and_a_lost_listener_stops_it_serving() -> None:
    off = cache.ReadCache(0)
    off.following()
    assert off.begin(cache.CONFIG, "x") is None and not off.serving()
    on = cache.ReadCache(1 << 20)
    assert not on.serving(), "not before the listener has caught up"
    on.following()
    assert on.serving() and not on.serving(min_revision=1)
    on.committed(5)  # this worker wrote revision 5: nothing older from memory
    assert not on.serving()
    on.revision = 5
    assert on.serving()
    on.lost()
    assert on.begin(cache.CONFIG, "x") is None and not on.serving()


def test_a_reset_drops_everything_and_voids_fills_in_flight() -> None:
    reads = cache.ReadCache(1 << 20)
    reads.following()
    _install(reads, 1)
    fill = reads.begin(cache.CONFIG, _resource(2)["id"])
    reads.drop(revision=3)
    assert (len(reads), reads.bytes, reads.revision) == (0, 0, 3)
    reads.end(fill)
    reads.install(fill, cache.entry_of(cache.CONFIG, _resource(2), 3))
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


def _sample(name: str, **labels: str) -> float:
    return prometheus_client.REGISTRY.get_sample_value(name, labels) or 0.0
