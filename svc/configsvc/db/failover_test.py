"""A real streaming standby, promoted after its primary died having committed changes the
standby never received: no subscriber stays on that lost history, no read serves it.

The service is given both servers in one multi-host URL (``target_session_attrs=read-write``),
as a failover manager's clients are; it finds the new primary by itself.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from configsvc_client import api, backoff

import conftest
from configsvc import settings as settings_mod
from configsvc.db import database, migrations
from configsvc.devtools import pgcluster
from configsvc.service import configuration_writes, writing

pytestmark = pytest.mark.usefixtures("token_env")
DBNAME = "failover"
PATIENCE = 60


@pytest.fixture
def pair() -> Iterator[tuple[pgcluster.Cluster, pgcluster.Cluster]]:
    """A primary and its streaming standby (pg_basebackup -R), each on a port of its own."""
    bindir = pgcluster.find_bindir()
    assert bindir is not None
    tmp = Path(tempfile.mkdtemp(prefix="configsvc-failover-"))
    tmp.chmod(0o755)
    primary = pgcluster.Cluster(tmp / "primary", pgcluster.free_port(), bindir)
    standby = pgcluster.Cluster(tmp / "standby", pgcluster.free_port(), bindir)
    primary.start(fast=True)
    asyncio.run(migrations.recreate_database(primary.url, DBNAME))
    standby.clone_of(primary)
    standby.start(fast=True)
    yield primary, standby
    for cluster in (primary, standby):
        cluster.stop()
    shutil.rmtree(tmp, ignore_errors=True)


async def _replayed(primary: pgcluster.Cluster, standby: pgcluster.Cluster) -> None:
    """Until the standby has replayed everything the primary wrote so far."""
    first = await asyncpg.connect(primary.url)
    second = await asyncpg.connect(standby.url)
    try:
        # Insert, not write: the test cluster commits asynchronously (synchronous_commit=off).
        lsn = await first.fetchval("SELECT pg_current_wal_insert_lsn()")
        async with asyncio.timeout(PATIENCE):
            while await second.fetchval(
                "SELECT coalesce(pg_last_wal_replay_lsn() < $1, true)", lsn
            ):
                await asyncio.sleep(0.05)
    finally:
        await first.close()
        await second.close()


async def _write_on(cluster: pgcluster.Cluster, config_id: str, name: str, value: int) -> int:
    """A write through the service's own write path, straight to ``cluster`` (another worker,
    already on the new primary): returns its revision."""
    url = cluster.url_for(DBNAME)
    settings = settings_mod.Settings(database_url=url, db_pool_min=0, _env_file=None)
    pool = await database.create_pool(url, settings)
    try:
        db = database.Database(pool, acquire_timeout_s=10)
        fields = {"name": name, "comments": "", "config": {"v": value}}
        done = await configuration_writes.replace_configuration(
            db, writing.Write(), config_id, fields, None
        )
        return int(done["revision"])
    finally:
        await pool.close()


async def _until(view: Any, wanted: dict[str, Any]) -> None:
    async with asyncio.timeout(PATIENCE):
        while dict(view) != wanted:
            await view.changed()


async def test_a_promoted_standby_never_leaves_a_subscriber_on_the_lost_history(pair) -> None:
    primary, standby = pair
    hosts = f"127.0.0.1:{primary.port},127.0.0.1:{standby.port}"
    url = f"postgresql://{pgcluster.SUPERUSER}@{hosts}/{DBNAME}?target_session_attrs=read-write"
    service = conftest.Service(url, 1, {"LISTENER_PROBE_S": "1"})
    service.start()
    try:
        async with api.ConfigClient(service.url) as rest:
            app = await rest.create_application("billing")
            a = await rest.create_configuration(app.id, "a", {"v": 1})
            b = await rest.create_configuration(app.id, "b", {"v": 1})
            await _replayed(primary, standby)
            quick = backoff.Backoff(base=0.05, cap=1.0)
            async with rest.watch("billing", backoff=quick) as view:
                await _until(view, {"a": {"v": 1}, "b": {"v": 1}})
                # The standby stops receiving; the primary commits one more change, which
                # the subscriber sees, then dies before anyone else has it.
                await asyncio.to_thread(standby.stop)
                await rest.replace_configuration(a.id, "a", {"v": 2})
                await _until(view, {"a": {"v": 2}, "b": {"v": 1}})
                lost_revision = view.revision
                await asyncio.to_thread(primary.crash)
                await asyncio.to_thread(standby.start, fast=True)
                await asyncio.to_thread(standby.promote)
                # The new primary hands out the lost revision again, for another change, and
                # goes on: "the changes after the subscriber's revision" would skip the first
                # and keep a's lost value forever.
                again = await _write_on(standby, b.id, "b", 3)
                assert again == lost_revision, "the same revision, another history"
                await _write_on(standby, b.id, "b", 4)
                await _until(view, {"a": {"v": 1}, "b": {"v": 4}})
            # Reads from the worker's memory were dropped with the old history.
            got = await rest.get_configuration(a.id)
            assert (got.config, got.version) == ({"v": 1}, 1)
    finally:
        service.stop()


async def _synchronous(primary: pgcluster.Cluster) -> None:
    """Make the standby synchronous: a commit is acknowledged once the standby has it."""
    conn = await asyncpg.connect(primary.url)
    try:
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
        # The test cluster runs with synchronous_commit=off; this database's sessions do not.
        await conn.execute(f"ALTER DATABASE {DBNAME} SET synchronous_commit = on")
        async with asyncio.timeout(PATIENCE):
            while not await conn.fetchval(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
            ):
                await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def test_a_synchronous_standby_promoted_under_load_loses_no_acknowledged_write(
    pair,
) -> None:
    primary, standby = pair
    await _synchronous(primary)
    hosts = f"127.0.0.1:{primary.port},127.0.0.1:{standby.port}"
    url = f"postgresql://{pgcluster.SUPERUSER}@{hosts}/{DBNAME}?target_session_attrs=read-write"
    service = conftest.Service(url, 2, {"LISTENER_PROBE_S": "1"})
    service.start()
    acked: dict[str, int] = {}  # configuration id -> highest value answered 2xx
    first_ok_after: list[float] = []
    promoted = asyncio.Event()
    stop = asyncio.Event()
    try:
        async with api.ConfigClient(service.url, retries=0) as rest:
            app = await rest.create_application("billing")
            configs = [await rest.create_configuration(app.id, f"c{i}", {"v": 0}) for i in range(4)]

            async def writer(config_id: str, name: str) -> None:
                value = 0
                while not stop.is_set():
                    value += 1
                    try:
                        await rest.replace_configuration(config_id, name, {"v": value})
                    except Exception:
                        await asyncio.sleep(0.05)
                        continue
                    acked[config_id] = value
                    if promoted.is_set() and not first_ok_after:
                        first_ok_after.append(asyncio.get_running_loop().time())

            quick = backoff.Backoff(base=0.05, cap=1.0)
            async with rest.watch("billing", backoff=quick) as view:
                # Read only at the end: room for every change of the run (a few thousand on
                # a quiet machine; the default 1,000 overflowed there).
                stream = view.events(maxsize=100_000)
                writers = [asyncio.create_task(writer(c.id, c.name)) for c in configs]
                await asyncio.sleep(1.0)  # under load
                await asyncio.to_thread(primary.crash)
                await asyncio.to_thread(standby.promote)
                promoted_at = asyncio.get_running_loop().time()
                promoted.set()
                async with asyncio.timeout(PATIENCE):
                    while not first_ok_after:
                        await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)  # and on, on the new primary
                stop.set()
                await asyncio.gather(*writers)
                final = {c.name: await rest.get_configuration(c.id) for c in configs}
                head = max(c.revision for c in final.values())
                seen: list[int] = []
                async with asyncio.timeout(PATIENCE):
                    while not seen or seen[-1] < head:
                        event = await anext(stream)
                        assert event.op != "snapshot", "no reset: nothing was lost"
                        seen.append(event.revision)
            print(f"promotion to first successful write: {first_ok_after[0] - promoted_at:.2f} s")
            for config in configs:
                assert final[config.name].config["v"] >= acked[config.id], "an acked write lost"
            assert seen == list(range(seen[0], head + 1)), "no gap, no repeat"
    finally:
        service.stop()
