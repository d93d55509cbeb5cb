"""JSONB goes in and out as Python objects; readiness says what is wrong."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from configsvc import app as app_mod
from configsvc import errors
from configsvc.db import database


async def test_jsonb_round_trips_as_python_objects(db) -> None:
    await database.init_connection(db)
    value = {"a": [1, 2.5, None, True], "ü": {"nested": "ß"}}
    assert await db.fetchval("SELECT $1::jsonb", value) == value


async def test_readiness_problems_name_pending_migrations(client) -> None:
    db = client.app[database.DB]
    assert await database.problems(db) == []
    async with db.connection() as conn:
        await conn.execute("DELETE FROM migrations WHERE version = 2")
    assert await database.problems(db) == ["migrations pending: 0002_change_log.sql"]


async def test_a_request_that_gets_no_connection_in_time_is_a_503_not_a_hang(
    settings, aiohttp_client, admin_headers
) -> None:
    one = settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 1,
                                      "db_acquire_timeout_s": 0.5})  # fmt: skip
    client = await aiohttp_client(app_mod.create_app(one), headers=admin_headers)
    db = client.app[database.DB]
    async with db.connection():  # the pool's only connection, held as a slow query would
        async with asyncio.timeout(10):
            resp = await client.get("/api/v1/applications")
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert resp.content_type == "application/problem+json"
    resp = await client.get("/api/v1/applications")
    assert resp.status == 200, "the connection is back in the pool once released"


async def test_driver_errors_leave_the_data_layer_as_the_services_own(client) -> None:
    db = client.app[database.DB]
    with pytest.raises(errors.DatabaseError, match="SyntaxError") as exc:
        async with db.connection() as conn:
            await conn.execute("SELEKT 1")
    assert isinstance(exc.value.__cause__, asyncpg.PostgresSyntaxError)
    with pytest.raises(errors.Conflict):
        async with db.connection() as conn:
            await conn.execute(
                "INSERT INTO applications (id, name) VALUES ($1, 'x'), ($2, 'x')",
                "01JDQ2Z8B6M4R1V3XK7N9P0TQS", "01JDQ2Z8B6M4R1V3XK7N9P0TQT",
            )  # fmt: skip
    with pytest.raises(errors.Unavailable):
        async with db.connection() as conn:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
