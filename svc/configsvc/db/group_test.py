"""Group commit, through the one write path: concurrent writes share commits, each write's
failure stays its own, revisions stay dense and in commit order, and nobody waits forever."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import prometheus_client
import pytest

from configsvc import app as app_mod
from configsvc import errors
from configsvc.db import group
from configsvc.service import application_writes, configuration_writes, writing
from conftest import ADMIN_HEADERS

W = writing.Write()


async def _app_with_configs(pooled: Any, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    app = await application_writes.create_application(pooled, W, "a", "")
    fields = [{"name": f"c{i}", "comments": "", "config": {"n": 0}} for i in range(count)]
    return app, [
        await configuration_writes.create_configuration(pooled, W, app["id"], f) for f in fields
    ]


async def _held_counter(db: asyncpg.Connection, pooled: Any, writes_: list[Any]) -> list[Any]:
    """Start ``writes_`` while the revision counter is held, so they pile up, then let go."""
    async with db.transaction():
        await db.execute("SELECT revision FROM revision_counter FOR UPDATE")
        tasks = [asyncio.ensure_future(w) for w in writes_]
        async with asyncio.timeout(10):
            while len(pooled.group._queue) < len(writes_) - 1:
                await asyncio.sleep(0.01)
    return await asyncio.gather(*tasks, return_exceptions=True)


async def test_concurrent_writes_share_one_commit_and_one_notify(pooled, db, database_url) -> None:
    _, configs = await _app_with_configs(pooled, 20)
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(database_url)
    await listener.add_listener("configsvc_changes", lambda *args: heard.put_nowait(args[-1]))
    before = (pooled.group.batches, pooled.group.units)
    seen = _batch_metrics()
    start = int(await db.fetchval("SELECT revision FROM revision_counter"))

    done = await _held_counter(db, pooled, [
        configuration_writes.replace_configuration(
            pooled, W, c["id"], {"name": c["name"], "comments": "", "config": {"n": 1}}, 1
        )
        for c in configs
    ])  # fmt: skip
    revisions = sorted(d["revision"] for d in done)
    assert revisions == list(range(start + 1, start + 21)), "dense, one each"
    batches, units = pooled.group.batches - before[0], pooled.group.units - before[1]
    assert units == 20
    assert batches <= 5, "they share commits"
    # What an operator sees of it: writes per commit, and each write's wait for its commit.
    now = _batch_metrics()
    size_sum, size_count, waits = (after - then for after, then in zip(now, seen, strict=True))
    assert (size_sum, size_count, waits) == (20, batches, 20)
    logged = await db.fetch("SELECT revision FROM changes WHERE revision > $1", start)
    assert sorted(r["revision"] for r in logged) == revisions
    await asyncio.sleep(0.2)
    assert heard.qsize() == batches, "one NOTIFY per commit"
    await listener.close()


def _batch_metrics() -> tuple[float, float, float]:
    def value(name: str) -> float:
        return prometheus_client.REGISTRY.get_sample_value(name) or 0.0

    return (value("configsvc_write_batch_writes_sum"), value("configsvc_write_batch_writes_count"),
            value("configsvc_write_batch_wait_seconds_count"))  # fmt: skip


async def test_a_failing_write_fails_alone_and_spends_no_revision(pooled, db) -> None:
    _, configs = await _app_with_configs(pooled, 6)
    start = int(await db.fetchval("SELECT revision FROM revision_counter"))

    def put(config: dict[str, Any], if_version: int) -> Any:
        fields = {"name": config["name"], "comments": "", "config": {"n": 2}}
        return configuration_writes.replace_configuration(
            pooled, W, config["id"], fields, if_version
        )

    stale = [put(c, 7 if i % 2 else 1) for i, c in enumerate(configs)]  # every other: 412
    taken = configuration_writes.create_configuration(
        pooled, W, configs[0]["application_id"], {"name": "c0", "comments": "", "config": {}}
    )  # a unique violation inside the shared transaction: 409, rolled back to its savepoint
    done = await _held_counter(db, pooled, [*stale, taken])
    assert [type(d).__name__ for d in done] == [
        "dict", "PreconditionFailed", "dict", "PreconditionFailed", "dict",
        "PreconditionFailed", "Conflict",
    ]  # fmt: skip
    assert sorted(d["revision"] for d in done if isinstance(d, dict)) == [
        start + 1, start + 2, start + 3,
    ]  # fmt: skip
    assert await db.fetchval("SELECT revision FROM revision_counter") == start + 3
    ns = await db.fetch("SELECT (config->>'n')::int AS n FROM configurations ORDER BY name")
    assert [r["n"] for r in ns] == [2, 0, 2, 0, 2, 0]


async def test_sequential_writes_each_commit_at_once(pooled) -> None:
    """A lone write never waits for company: one after the other, each is its own commit."""
    before = pooled.group.batches
    await _app_with_configs(pooled, 3)
    assert pooled.group.batches - before == 4


async def test_a_lost_connection_fails_the_batch_and_the_next_write_works(pooled, db) -> None:
    """Killed mid-batch: every write in it is answered 503 and none of them committed."""
    _, configs = await _app_with_configs(pooled, 4)

    def put(config: dict[str, Any]) -> Any:
        fields = {"name": config["name"], "comments": "", "config": {"n": 3}}
        return configuration_writes.replace_configuration(pooled, W, config["id"], fields, 1)

    async with db.transaction():
        # The last write waits for this row lock, with the three before it done in its batch.
        await db.execute("SELECT FROM configurations WHERE id = $1 FOR UPDATE", configs[-1]["id"])
        tasks = [asyncio.ensure_future(put(c)) for c in configs]
        async with asyncio.timeout(10):
            while not await db.fetchval(
                "SELECT count(*) FROM pg_stat_clear_snapshot(), pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ):
                await asyncio.sleep(0.01)
        await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        async with asyncio.timeout(10):
            done = await asyncio.gather(*tasks, return_exceptions=True)
    assert {type(d) for d in done} == {errors.Unavailable}, done
    rows = await db.fetch("SELECT (config->>'n')::int AS n FROM configurations")
    assert {r["n"] for r in rows} == {0}, "nothing of the batch committed"
    assert (await put(configs[0]))["version"] == 2


async def test_past_its_bound_the_queue_refuses_with_a_503(pooled, db) -> None:
    app = await application_writes.create_application(pooled, W, "a", "")
    pooled.group.max_queued = 2

    def create(name: str) -> Any:
        fields = {"name": name, "comments": "", "config": {}}
        return asyncio.ensure_future(
            configuration_writes.create_configuration(pooled, W, app["id"], fields)
        )

    try:
        async with db.transaction():
            await db.execute("SELECT revision FROM revision_counter FOR UPDATE")
            first = [create("c0")]  # taken into a batch, waiting for the counter
            async with asyncio.timeout(10):
                while pooled.group._queue or pooled.group._drain is None:
                    await asyncio.sleep(0.01)
            first += [create("c1"), create("c2")]  # waiting in the queue: full
            await asyncio.sleep(0.05)
            with pytest.raises(errors.Unavailable, match="waiting; retry"):
                await configuration_writes.create_configuration(
                    pooled, W, app["id"], {"name": "c3"}
                )
        done = await asyncio.gather(*first)
        assert [d["name"] for d in done] == ["c0", "c1", "c2"]
    finally:
        pooled.group.max_queued = group.GroupCommit.max_queued


async def test_a_connection_lost_at_commit_is_a_503_saying_the_write_may_have_happened(
    aiohttp_client, settings, db
) -> None:
    """The COMMIT waits (here: for a synchronous standby that never comes) and its connection
    dies meanwhile: nobody knows whether it committed. The answer says so, and that a retry
    with If-Match is safe: it is refused if the write did happen."""
    # The test cluster runs with synchronous_commit=off; this database's sessions do not.
    name = await db.fetchval("SELECT current_database()")
    await db.execute(f"ALTER DATABASE {name} SET synchronous_commit = on")
    client = await aiohttp_client(app_mod.create_app(settings), headers=ADMIN_HEADERS)
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"n": 1}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    put = {"name": "c", "config": {"n": 2}}
    try:
        await db.execute("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
        await db.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.3)
        answer = asyncio.ensure_future(client.put(
            f"/api/v1/configurations/{cfg['id']}", json=put, headers={"If-Match": '"1"'}
        ))  # fmt: skip
        async with asyncio.timeout(10):
            while not await db.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE wait_event = 'SyncRep' AND datname = current_database()"
            ):
                await asyncio.sleep(0.02)
        resp = await answer
    finally:
        await db.execute("ALTER SYSTEM RESET synchronous_standby_names")
        await db.execute("SELECT pg_reload_conf()")
        await db.execute(f"ALTER DATABASE {name} RESET synchronous_commit")
    assert resp.status == 503
    problem = await resp.json()
    assert "may or may not" in problem["detail"]
    assert "If-Match" in problem["detail"]
    assert resp.headers["Retry-After"] == "1"
    await asyncio.sleep(0.3)
    retry = await client.put(
        f"/api/v1/configurations/{cfg['id']}", json=put, headers={"If-Match": '"1"'}
    )
    assert retry.status == 412, "it had committed (locally): the retry changes nothing"
