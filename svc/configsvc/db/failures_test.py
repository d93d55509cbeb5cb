"""Driver errors as the service's own: an outage is a 503 to retry, a taken name a 409, the
rest a bug; and an OSError that is not the database's is not called an outage."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path

import asyncpg
import pytest

from configsvc import errors
from configsvc.db import database, failures
from configsvc.devtools import pgcluster


async def test_driver_errors_leave_the_data_layer_as_the_services_own(pooled) -> None:
    db = pooled
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


async def _file_fails(pooled: database.Database) -> None:
    async with pooled.connection() as conn:
        await conn.fetchval("SELECT 1")
        await asyncio.to_thread(Path("/nonexistent/configsvc-test").read_text)


async def _own_deadline(pooled: database.Database) -> None:
    async with pooled.connection(), asyncio.timeout(0.01):
        await asyncio.sleep(1)


async def _connection_dies(pooled: database.Database, db: asyncpg.Connection) -> None:
    async with pooled.connection() as conn:
        await db.execute(
            "SELECT pg_terminate_backend($1)", await conn.fetchval("SELECT pg_backend_pid()")
        )
        await asyncio.sleep(0.2)
        await conn.fetchval("SELECT 1")


async def test_an_oserror_that_is_not_the_databases_is_not_called_an_outage(pooled, db) -> None:
    """A file or another socket failing inside a connection block is that code's error (a
    500 that gets logged), not a 503 that sends clients away to retry for nothing."""
    with pytest.raises(FileNotFoundError):
        await _file_fails(pooled)
    with pytest.raises(TimeoutError):
        await _own_deadline(pooled)
    with pytest.raises(errors.Unavailable):  # the connection itself dying is an outage
        await _connection_dies(pooled, db)


async def test_a_query_past_its_timeout_is_an_outage(pooled) -> None:
    """The database too slow to answer (asyncpg's command timeout: the connection stays open)
    is the database's trouble, a 503 to retry, not a bug of the caller's."""
    with pytest.raises(errors.Unavailable):
        async with pooled.connection() as conn:
            await conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
    async with pooled.connection() as conn:
        assert await conn.fetchval("SELECT 1") == 1, "the pool still serves"


async def test_a_database_that_is_gone_is_an_outage(database_url) -> None:
    gone = urllib.parse.urlsplit(database_url)._replace(path="/configsvc_no_such_db").geturl()
    with pytest.raises(errors.Unavailable, match="InvalidCatalogName"), failures.classified():
        await asyncpg.connect(gone)


async def test_a_server_that_refuses_connections_is_an_outage(database_url) -> None:
    parts = urllib.parse.urlsplit(database_url)
    closed = parts._replace(netloc=f"127.0.0.1:{pgcluster.free_port()}").geturl()
    with pytest.raises(errors.Unavailable), failures.classified():
        await asyncpg.connect(closed, timeout=5)
