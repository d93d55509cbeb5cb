"""The asyncpg pool: one per worker process, with JSON and JSONB as Python objects."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import migrations

POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool", asyncpg.Pool)


# What the driver raises when the database is unreachable, restarting, overloaded, or dropped
# the connection: worth a 503 and a retry. Other PostgreSQL errors are bugs, not outages.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,
    asyncpg.exceptions.InvalidCatalogNameError,
)


async def init_connection(conn: asyncpg.Connection) -> None:
    """Decode json/jsonb into Python objects and encode them back, on every connection."""
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            encoder=lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def create_pool(url: str, settings: settings_mod.Settings) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init_connection,
        command_timeout=30,
    )
    return pool


async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the pool and bring the schema up to date at start-up; close the pool at shutdown.

    Every worker migrates on start; the advisory lock in ``migrations.apply`` makes the first
    one do the work and the others find nothing pending.
    """
    settings = app[settings_mod.SETTINGS]
    assert settings.database_url is not None, "resolve DATABASE_URL before create_app"
    pool = await create_pool(settings.database_url, settings)
    async with pool.acquire() as conn:
        await migrations.apply(conn)
    app[POOL] = pool
    yield
    await pool.close()


async def problems(pool: asyncpg.Pool) -> list[str]:
    """Why this worker's database is not ready to serve: empty when all is well."""
    try:
        async with asyncio.timeout(2), pool.acquire() as conn:
            todo = await migrations.pending(conn)
    except (*UNAVAILABLE, asyncpg.PostgresError) as exc:
        return [f"database unavailable: {exc.__class__.__name__}: {exc}"]
    except errors.MigrationError as exc:
        return [str(exc)]
    return [f"migrations pending: {', '.join(m.path.name for m in todo)}"] if todo else []
