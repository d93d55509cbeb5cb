"""The test session's databases: a recycled one is the template's twin, or it is not reused."""

from __future__ import annotations

import asyncpg
import pytest

import conftest
from configsvc.db import migrations
from configsvc.devtools import testdbs


@pytest.fixture
async def databases(admin_url: str, template_url: str) -> testdbs.Databases:
    """A supply of its own, so that what these tests break never reaches another test."""
    return await testdbs.Databases.of_template(admin_url, conftest.TEMPLATE)


def _names() -> str:
    return f"configsvc_testdbs_{next(conftest._counter)}"


async def _connect(databases: testdbs.Databases, name: str) -> asyncpg.Connection:
    return await asyncpg.connect(migrations.with_database(databases.admin_url, name))


async def test_rows_sequences_and_open_sessions_are_reset_and_the_database_reused(
    databases: testdbs.Databases,
) -> None:
    name = await databases.take(_names)
    conn = await _connect(databases, name)
    await conn.execute(
        "INSERT INTO applications (id, name) VALUES ('01J0000000000000000000000A', 'a')"
    )
    await conn.execute("UPDATE revision_counter SET revision = revision + 41")
    await conn.execute("DELETE FROM migrations")
    await conn.execute("SELECT nextval(pg_get_serial_sequence('audit', 'id'))")
    await conn.execute("LISTEN anything")  # left open: the reset ends it
    await databases.give_back(name)
    assert conn.is_closed() or not await _alive(conn)

    assert await databases.take(_names) == name
    again = await _connect(databases, name)
    try:
        assert await testdbs.state(again) == databases.template_state
        assert await again.fetchval("SELECT count(*) FROM applications") == 0
        assert await again.fetchval("SELECT count(*) FROM migrations") > 0
    finally:
        await again.close()
        await databases.give_back(name)


async def _alive(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT 1")
    except (asyncpg.PostgresError, OSError):
        return False
    return True


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE applications ADD COLUMN extra int",
        "CREATE INDEX extra ON applications (name)",
        "CREATE TABLE extra (id int)",
        "CREATE FUNCTION extra() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "ALTER DATABASE {name} SET work_mem = '8MB'",
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false",
        "ALTER TABLE applications DISABLE TRIGGER ALL",
        "DROP TABLE audit",
    ],
)
async def test_a_database_a_test_changed_otherwise_is_dropped(
    databases: testdbs.Databases, change: str
) -> None:
    name = await databases.take(_names)
    on_server = change.startswith("ALTER DATABASE")  # not from inside the database itself
    conn = await (asyncpg.connect(databases.admin_url) if on_server else _connect(databases, name))
    await conn.execute(change.format(name=name))
    await conn.close()
    await databases.give_back(name)

    assert databases.spare == []
    admin = await asyncpg.connect(databases.admin_url)
    try:
        assert not await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
    finally:
        await admin.close()
    assert await databases.take(_names) != name
