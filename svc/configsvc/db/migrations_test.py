"""Migrations apply once, in order, from any number of processes, and refuse edited files."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import migrations

FILES = migrations.discover()


@pytest.fixture
async def empty_url(admin_url):
    """A database with nothing in it, not even the migrations table."""
    name = f"configsvc_empty_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name}")
    await admin.execute(f"CREATE DATABASE {name}")
    yield migrations.with_database(admin_url, name)
    await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    await admin.close()


async def test_all_migrations_apply_to_an_empty_database_and_are_recorded(empty_url) -> None:
    conn = await asyncpg.connect(empty_url)
    applied = await migrations.apply(conn)
    assert (
        [m.version for m in applied]
        == [m.version for m in FILES]
        == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    )
    rows = await conn.fetch("SELECT * FROM migrations ORDER BY version")
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
        (m.version, m.name, m.checksum) for m in FILES
    ]
    assert all(r["duration_ms"] >= 0 and r["applied_at"] is not None for r in rows)
    assert await migrations.apply(conn) == [], "a second run finds nothing to do"
    assert await migrations.pending(conn) == []
    await conn.close()


async def test_several_processes_migrating_at_once_apply_each_migration_once(empty_url) -> None:
    env = {**os.environ, "DATABASE_URL": empty_url}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "configsvc.db.migrations",
            "apply",
            env=env,
            cwd=settings_mod.SVC_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]
    outputs = [await proc.communicate() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 6, outputs
    applied_lines = [line for out, _ in outputs for line in out.decode().splitlines()
                     if line.startswith("applied ")]  # fmt: skip
    assert sorted(applied_lines) == sorted(f"applied {m.path.name}" for m in FILES)
    conn = await asyncpg.connect(empty_url)
    assert await conn.fetchval("SELECT count(*) FROM migrations") == len(FILES)
    await conn.close()


async def test_an_edited_migration_stops_start_up_naming_the_file(
    empty_url, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, folder)
    conn = await asyncpg.connect(empty_url)
    await migrations.apply(conn, folder)
    with (folder / "0001_initial.sql").open("a") as f:
        f.write("\n-- a harmless-looking edit\n")
    with pytest.raises(errors.MigrationError, match=r"0001_initial\.sql"):
        await migrations.apply(conn, folder)
    await conn.close()


def test_the_server_refuses_to_start_on_an_edited_migration(database_url) -> None:
    async def tamper() -> None:
        conn = await asyncpg.connect(database_url)
        await conn.execute("UPDATE migrations SET checksum = 'x' WHERE version = 2")
        await conn.close()

    asyncio.run(tamper())
    result = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, capture_output=True,
        text=True, timeout=60, env={**os.environ, "DATABASE_URL": database_url, "PORT": "0"},
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "migration 0002_change_log.sql was edited after it was applied; add a new migration instead"
    )


async def test_status_lists_applied_and_pending(empty_url) -> None:
    conn = await asyncpg.connect(empty_url)
    assert await migrations.status(conn) == [f"{m.path.name}  pending" for m in FILES]
    await migrations.apply(conn)
    lines = await migrations.status(conn)
    assert all(" pending" not in line for line in lines)
    assert lines[0].startswith("0001_initial.sql  20")
    await conn.close()


def test_status_command_prints_one_line_per_file(database_url) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "configsvc.db.migrations", "status"], cwd=settings_mod.SVC_DIR,
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": database_url},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [m.path.name for m in FILES]


@pytest.mark.parametrize(
    ("names", "message"),
    [(["1_bad.sql"], "name must look like"), (["0001_a.sql", "0001_b.sql"], "used twice")],
)
def test_misnamed_or_duplicate_files_are_refused(tmp_path: Path, names, message) -> None:
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(errors.MigrationError, match=message):
        migrations.discover(tmp_path)


def test_with_database_swaps_only_the_database() -> None:
    url = "postgresql://u:p@127.0.0.1:5432/configsvc?sslmode=disable"
    assert (
        migrations.with_database(url, "other")
        == "postgresql://u:p@127.0.0.1:5432/other?sslmode=disable"
    )


def _folder_with(tmp_path: Path, **extra: str) -> Path:
    """A copy of the real migrations plus ``extra`` files (file stem -> SQL)."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, folder)
    for stem, sql in extra.items():
        (folder / f"{stem}.sql").write_text(sql)
    return folder


INDEXES = """-- configsvc:no-transaction
-- Two indexes built without blocking writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS applications_comments ON applications (comments);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS applications_lower_name
    ON applications (lower(name));
"""
INDEX_STATE = """
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = ANY($1::text[])
"""
NAMES = ["applications_comments", "applications_lower_name"]


async def _indexes(conn: asyncpg.Connection) -> dict[str, bool]:
    """Which of NAMES exist, and whether each is valid."""
    return {row[0]: row[1] for row in await conn.fetch(INDEX_STATE, NAMES)}


async def test_a_no_transaction_migration_builds_indexes_concurrently_and_is_recorded(
    empty_url, tmp_path: Path
) -> None:
    folder = _folder_with(tmp_path, **{"0099_indexes": INDEXES})
    conn = await asyncpg.connect(empty_url)
    applied = await migrations.apply(conn, folder)
    assert [(m.version, m.transactional) for m in applied] == [
        *((m.version, True) for m in FILES),
        (99, False),
    ]
    assert await _indexes(conn) == dict.fromkeys(NAMES, True)
    assert await conn.fetchval("SELECT name FROM migrations WHERE version = 99") == "indexes"
    await conn.close()


async def test_a_no_transaction_migration_failing_half_way_succeeds_when_run_again(
    empty_url, tmp_path: Path
) -> None:
    folder = _folder_with(tmp_path)
    conn = await asyncpg.connect(empty_url)
    await migrations.apply(conn, folder)
    # Two names that differ only in case: the unique index on lower(name) cannot be built.
    for app_id, name in [("A" * 26, "Billing"), ("B" * 26, "billing")]:
        await conn.execute("INSERT INTO applications (id, name) VALUES ($1, $2)", app_id, name)
    (folder / "0099_indexes.sql").write_text(INDEXES)
    with pytest.raises(errors.MigrationError, match=r"^0099_indexes\.sql failed: Unique"):
        await migrations.apply(conn, folder)
    assert await _indexes(conn) == {NAMES[0]: True, NAMES[1]: False}, "an INVALID leftover"
    assert [m.version for m in await migrations.pending(conn, folder)] == [99]

    await conn.execute("DELETE FROM applications WHERE id = $1", "B" * 26)
    assert [m.version for m in await migrations.apply(conn, folder)] == [99]
    assert await _indexes(conn) == dict.fromkeys(NAMES, True), "the leftover was rebuilt"
    with pytest.raises(asyncpg.UniqueViolationError, match="applications_lower_name"):
        await conn.execute("INSERT INTO applications (id, name) VALUES ($1, 'BILLING')", "C" * 26)
    await conn.close()


async def test_workers_migrating_at_once_through_a_concurrent_index_build_apply_it_once(
    empty_url, tmp_path: Path
) -> None:
    slow = "-- configsvc:no-transaction\nSELECT pg_sleep(0.5);\n" + INDEXES.split("\n", 1)[1]
    folder = _folder_with(tmp_path, **{"0099_indexes": slow})
    conns = [await asyncpg.connect(empty_url) for _ in range(4)]
    results = await asyncio.gather(*(migrations.apply(conn, folder) for conn in conns))
    assert sorted(m.version for done in results for m in done) == [*(m.version for m in FILES), 99]
    assert await _indexes(conns[0]) == dict.fromkeys(NAMES, True)
    for conn in conns:
        await conn.close()


def test_a_no_transaction_index_without_if_not_exists_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_index.sql").write_text(
        "-- configsvc:no-transaction\nCREATE INDEX CONCURRENTLY a_b ON a (b);\n"
    )
    with pytest.raises(errors.MigrationError, match=r"0001_index\.sql: .*IF NOT EXISTS"):
        migrations.discover(tmp_path)


async def test_the_previous_release_starts_on_a_database_a_newer_release_migrated(
    empty_url, tmp_path: Path
) -> None:
    newer = _folder_with(tmp_path, **{"0099_add_owner": (
        "ALTER TABLE applications ADD COLUMN owner text NOT NULL DEFAULT '';")})  # fmt: skip
    conn = await asyncpg.connect(empty_url)
    await migrations.apply(conn, newer)
    assert await migrations.apply(conn) == [], "it knows fewer migrations: nothing to do"
    assert await migrations.pending(conn) == []
    await conn.close()


async def test_waiting_for_another_migrating_process_is_bounded(empty_url) -> None:
    holder, waiter = await asyncpg.connect(empty_url), await asyncpg.connect(empty_url)
    await holder.execute("SELECT pg_advisory_lock($1)", migrations.ADVISORY_LOCK_KEY)
    with pytest.raises(errors.MigrationError, match="another process has been migrating"):
        await migrations.apply(waiter, lock_wait_s=0.5)
    await holder.close()
    assert len(await migrations.apply(waiter, lock_wait_s=5)) == len(FILES), "then it proceeds"
    await waiter.close()


async def test_a_failing_migration_changes_nothing_and_stops_naming_its_file(
    empty_url, tmp_path: Path
) -> None:
    bad = "CREATE TABLE half (a int);\nSELECT 1 / 0;\n"
    folder = _folder_with(tmp_path, **{"0099_half": bad})
    conn = await asyncpg.connect(empty_url)
    with pytest.raises(errors.MigrationError, match=r"^0099_half\.sql failed: DivisionByZero"):
        await migrations.apply(conn, folder)
    assert await conn.fetchval("SELECT to_regclass('half')") is None, "rolled back as a whole"
    assert [m.version for m in await migrations.pending(conn, folder)] == [99]
    await conn.close()


async def test_names_the_rules_now_refuse_are_listed_for_review_not_rewritten(db) -> None:
    rows = [("A" * 26, "Cafe\u0301", ""), ("B" * 26, " padded", ""), ("C" * 26, "zw\u200b", ""),
            ("D" * 26, "ansi\x1b[31m", "line\nbreak ok"), ("E" * 26, "fine", "tab\tok"),
            ("F" * 26, "fine too", "bell\x07")]  # fmt: skip
    await db.executemany(
        "INSERT INTO applications (id, name, comments, revision) VALUES ($1, $2, $3, 1)", rows
    )
    listed = {r["id"]: r["reasons"] for r in await db.fetch("SELECT * FROM names_to_review")}
    assert listed == {
        "A" * 26: ["name is not in NFC"],
        "B" * 26: ["name starts or ends with whitespace"],
        "C" * 26: ["name has a format character"],
        "D" * 26: ["name has a control character"],
        "F" * 26: ["comments break the character rules"],
    }
    stored = await db.fetchval("SELECT name FROM applications WHERE id = $1", "A" * 26)
    assert stored == "Cafe\u0301", "kept as it was"
