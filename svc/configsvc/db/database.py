"""The asyncpg pool: one per worker process, with JSON and JSONB as Python objects.

:meth:`Database.connection` is the only way to a pooled connection: it waits for one at most
``DB_ACQUIRE_TIMEOUT_S`` and it is where driver errors become the service's own
(``errors.Unavailable`` for an outage), so asyncpg exceptions stop here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
from aiohttp import web
from configsvc_contract import exactjson

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import migrations
from configsvc.db.failures import classified
from configsvc.db.group import GroupCommit

log = logging.getLogger(__name__)

# What Database.connection() yields, named here so code above db/ need not import the driver.
Connection = asyncpg.Connection


@dataclass(frozen=True, slots=True)
class Database:
    """This worker's pool and how long a caller may wait for one of its connections."""

    pool: asyncpg.Pool
    acquire_timeout_s: float
    # The write path's shared commits (service/writes.py): one queue per pool.
    group: GroupCommit = field(default_factory=GroupCommit, compare=False)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection; ``errors.Unavailable`` when none frees up in time."""
        with classified():
            try:
                async with asyncio.timeout(self.acquire_timeout_s):
                    conn = await self.pool.acquire()
            except TimeoutError as exc:
                raise errors.Unavailable("no database connection became free in time") from exc
        try:
            with classified(conn):
                yield conn
        finally:
            with classified():
                await self.pool.release(conn)


DB: web.AppKey[Database] = web.AppKey("db", Database)


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb into Python objects and encode them back, numbers kept exactly."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, encoder=exactjson.dumps, decoder=exactjson.loads, schema="pg_catalog"
        )


async def create_pool(url: str, settings: settings_mod.Settings) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init_connection,
        command_timeout=30,
        # PgBouncer in transaction mode hands each transaction to any server connection, where
        # a named prepared statement may not exist: asyncpg then uses unnamed ones only.
        statement_cache_size=0 if settings.db_pgbouncer else 100,
    )
    return pool


async def _migrate(db: Database, direct_url: str | None) -> None:
    # The migration lock is a session advisory lock, which a transaction-mode pooler would
    # scatter over server connections: migrate over the direct connection when there is one.
    if direct_url is None:
        async with db.connection() as conn:
            await migrations.apply(conn)
        return
    with classified():
        conn = await asyncpg.connect(direct_url)
        try:
            await migrations.apply(conn)
        finally:
            await conn.close()


async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the pool and bring the schema up to date at start-up; close the pool at shutdown.

    Every worker migrates on start; the advisory lock in ``migrations.apply`` makes the first
    one do the work and the others find nothing pending.
    """
    settings = app[settings_mod.SETTINGS]
    assert settings.database_url is not None, "resolve DATABASE_URL before create_app"
    pool = await create_pool(settings.database_url, settings)
    db = app[DB] = Database(pool, settings.db_acquire_timeout_s)
    await _migrate(db, settings.listen_database_url)
    yield
    await pool.close()


async def problems(db: Database) -> list[str]:
    """Why this worker's database is not ready to serve: empty when all is well."""
    try:
        async with asyncio.timeout(2), db.connection() as conn:
            todo = await migrations.pending(conn)
    except (errors.Unavailable, errors.DatabaseError, TimeoutError) as exc:
        # The driver's words name hosts and ports: the log gets them, the probe does not.
        log.warning("readiness: database unavailable: %s", exc)
        return ["database unavailable"]
    except errors.MigrationError as exc:
        log.warning("readiness: %s", exc)
        return ["database schema does not match the migrations"]
    return [f"migrations pending: {', '.join(m.path.name for m in todo)}"] if todo else []
