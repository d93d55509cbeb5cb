"""The previous release keeps working on the newest schema (a rolling deploy runs both at once).

``previous_release.sql`` holds every statement the previous release runs and the last migration
it shipped (refreshed by ``python -m configsvc.devtools.releasesql`` when a release is cut). A
database is migrated as that release left it, where each statement's parameter and column types
are noted, then to the newest migration, where each must prepare with the same types and run
(with sample arguments, in a transaction rolled back) on one seeded application, configuration
and change.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from configsvc.db import database, migrations
from configsvc.devtools import releasesql

SNAPSHOT = releasesql.read()
ID = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"
# Every id, name and other text is ID, so lookups find the seeded rows and updates hit them.
SAMPLES: dict[str, Any] = {
    "text": ID, "varchar": ID, "int2": 1, "int4": 1, "int8": 1, "float8": 1.0, "bool": True,
    "numeric": decimal.Decimal(1), "json": {}, "jsonb": {},
    "timestamptz": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
}  # fmt: skip
SEED = [
    "INSERT INTO applications (id, name) VALUES ($1::text, $1::text)",
    "INSERT INTO configurations (id, application_id, name, config)"
    " VALUES ($1::text, $1::text, $1::text, '{}')",
    "INSERT INTO changes (revision, application_id, op, resource) VALUES (1, $1, 'created', '{}')",
]
_counter = itertools.count()
Signature = tuple[list[str], list[tuple[str, str]]]


class _RollBack(Exception):
    pass


async def _signature(conn: asyncpg.Connection, sql: str) -> Signature:
    prepared = await conn.prepare(sql)
    params = [t.name for t in prepared.get_parameters()]
    return params, [(a.name, a.type.name) for a in prepared.get_attributes()]


@pytest.fixture
async def upgraded(
    admin_url: str, tmp_path: Path
) -> AsyncIterator[tuple[asyncpg.Connection, dict[str, Signature]]]:
    """A database migrated as the previous release shipped it, the types of every statement
    there, then the same database migrated to the newest migration and seeded."""
    name = f"configsvc_upgrade_{os.getpid()}_{next(_counter)}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f"CREATE DATABASE {name}")
    for migration in migrations.discover():
        if migration.version <= SNAPSHOT.migration:
            shutil.copy(migration.path, tmp_path)
    conn = await asyncpg.connect(migrations.with_database(admin_url, name), statement_cache_size=0)
    await database.init_connection(conn)
    await migrations.apply(conn, tmp_path)
    before = {s.name: await _signature(conn, s.sql) for s in SNAPSHOT.statements}
    await migrations.apply(conn)
    for sql in SEED:
        await conn.execute(sql, ID)
    yield conn, before
    await conn.close()
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


async def _problem(
    conn: asyncpg.Connection, statement: releasesql.Statement, before: Signature
) -> str | None:
    """Why ``statement`` fails on this schema, or None when it works as it did."""
    try:
        async with conn.transaction():
            now = await _signature(conn, statement.sql)
            # New columns in a result are fine (expand); changed or missing ones are not.
            if now[0] != before[0] or not set(before[1]) <= set(now[1]):
                return f"{statement.name}: types changed from {before} to {now}"
            if unknown := [t for t in now[0] if t not in SAMPLES]:
                return f"{statement.name}: add a sample value for {unknown} to SAMPLES"
            await conn.fetch(statement.sql, *(SAMPLES[t] for t in now[0]))
            raise _RollBack
    except _RollBack:
        return None
    except asyncpg.NotNullViolationError as exc:  # a column the old code does not fill in
        return f"{statement.name}: {exc.__class__.__name__}: {exc}"
    except asyncpg.IntegrityConstraintViolationError:  # sample values meeting the seeded rows
        return None
    except asyncpg.PostgresError as exc:
        return f"{statement.name}: {exc.__class__.__name__}: {exc}"


async def _problems(conn: asyncpg.Connection, before: dict[str, Signature]) -> list[str]:
    found = [await _problem(conn, s, before[s.name]) for s in SNAPSHOT.statements]
    return [problem for problem in found if problem is not None]


def test_the_snapshot_holds_the_previous_release_data_layer() -> None:
    names = {s.name for s in SNAPSHOT.statements}
    assert {"configsvc/store/applications.py:INSERT", "configsvc/store/changes.py:RECORD"} <= names
    assert len(names) == len(SNAPSHOT.statements) >= 20
    assert 1 <= SNAPSHOT.migration <= migrations.discover()[-1].version


async def test_every_statement_of_the_previous_release_runs_on_the_newest_schema(
    upgraded,
) -> None:
    conn, before = upgraded
    assert await _problems(conn, before) == []


@pytest.mark.parametrize(
    ("migration", "broken"),
    [
        ("ALTER TABLE configurations RENAME COLUMN comments TO notes",
         "configsvc/store/configurations.py:INSERT: UndefinedColumnError"),
        ("ALTER TABLE applications ADD COLUMN owner text NOT NULL DEFAULT 'x';"
         "ALTER TABLE applications ALTER COLUMN owner DROP DEFAULT",
         "configsvc/store/applications.py:INSERT: NotNullViolationError"),
        ("ALTER TABLE changes ALTER COLUMN resource TYPE text",
         "configsvc/store/changes.py:RECORD: types changed"),
        ("ALTER TABLE applications ALTER COLUMN version TYPE bigint",
         "configsvc/store/applications.py:GET: types changed"),
        ("ALTER TABLE configurations DROP COLUMN comments CASCADE",
         "configsvc/store/configurations.py:REPLACE: UndefinedColumnError"),
    ],
)  # fmt: skip
async def test_a_migration_that_breaks_the_previous_release_is_caught(
    upgraded, migration: str, broken: str
) -> None:
    conn, before = upgraded
    await conn.execute(migration)
    problems = await _problems(conn, before)
    assert any(problem.startswith(broken) for problem in problems), problems


@pytest.mark.parametrize(
    "migration",
    [
        "ALTER TABLE applications ADD COLUMN owner text",
        "ALTER TABLE configurations ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'",
        "ALTER TABLE configurations ADD CONSTRAINT short_comments"
        " CHECK (length(comments) < 100) NOT VALID",
        "CREATE INDEX configurations_updated_at ON configurations (updated_at)",
    ],
)
async def test_an_expanding_migration_passes(upgraded, migration: str) -> None:
    conn, before = upgraded
    await conn.execute(migration)
    assert await _problems(conn, before) == []
