"""Numbered, forward-only SQL migrations, applied once each however many workers start at once.

Files are ``migrations/NNNN_name.sql``. Each is applied in its own transaction and recorded with
its checksum; a recorded migration whose file was later edited stops start-up. A file whose
first line is ``-- configsvc:no-transaction`` (for ``CREATE INDEX CONCURRENTLY``) runs one
statement at a time outside any transaction and is recorded after its last statement, so it
must be safe to run again. During a rolling deploy the previous release runs on the new
schema: migrations/README.md has the rules that keep it working.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import sqlscript

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant will do, as long as nothing else in the database uses it.
ADVISORY_LOCK_KEY = 0x636F6E66  # "conf"
# Waiting for the lock is bounded: a process that gives up exits and its supervisor retries.
LOCK_WAIT_S = 900.0
LOCK_POLL_S = 0.2
NO_TRANSACTION = "-- configsvc:no-transaction"
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# The index a CREATE INDEX statement names (group 3), and whether it says IF NOT EXISTS.
_CREATE_INDEX = re.compile(
    r'^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(CONCURRENTLY\s+)?(IF\s+NOT\s+EXISTS\s+)?("[^"]+"|[\w$]+)',
    re.IGNORECASE,
)

TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"
RECORD = """
INSERT INTO migrations (version, name, checksum, duration_ms)
VALUES ($1, $2, $3, $4)
"""
# A CREATE INDEX CONCURRENTLY that failed half-way leaves an INVALID index behind, which
# IF NOT EXISTS would then silently keep: such a leftover is dropped before the retry.
INVALID_INDEX = """
SELECT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)
"""

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS migrations (
    version      integer PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  double precision NOT NULL
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def transactional(self) -> bool:
        """False when the file's first line is the no-transaction marker."""
        return self.sql.split("\n", 1)[0].strip() != NO_TRANSACTION

    def check(self) -> None:
        """Refuse a no-transaction file that could not be run again after failing half-way."""
        if self.transactional:
            return
        for statement in sqlscript.statements(self.sql):
            created = _CREATE_INDEX.match(sqlscript.without_comments(statement))
            if created is not None and created.group(2) is None:
                raise errors.MigrationError(
                    f"{self.path.name}: CREATE INDEX in a no-transaction migration needs "
                    "IF NOT EXISTS, so that it can run again after a failure"
                )


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a misnamed, duplicate or unsafe file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if match is None:
            raise errors.MigrationError(f"{path.name}: name must look like 0001_what_it_does.sql")
        version = int(match.group(1))
        if version in found:
            raise errors.MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path)
        found[version].check()
    return [found[v] for v in sorted(found)]


async def _applied(conn: asyncpg.Connection) -> dict[int, str]:
    exists = await conn.fetchval("SELECT to_regclass('migrations') IS NOT NULL")
    if not exists:
        return {}
    rows = await conn.fetch("SELECT version, checksum FROM migrations")
    return {row["version"]: row["checksum"] for row in rows}


def _check_unedited(available: list[Migration], applied: dict[int, str]) -> None:
    for migration in available:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise errors.MigrationError(
                f"migration {migration.path.name} was edited after it was applied; "
                "add a new migration instead"
            )


async def pending(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migrations not yet applied; raises MigrationError if an applied one was edited."""
    available = discover(directory)
    applied = await _applied(conn)
    _check_unedited(available, applied)
    return [m for m in available if m.version not in applied]


async def apply(
    conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR, lock_wait_s: float = LOCK_WAIT_S
) -> list[Migration]:
    """Apply what is pending, in order; returns what this call applied.

    A session advisory lock makes concurrent callers (workers starting together) take turns;
    the ones that get it later find nothing left to do. Waiting for it gives up after
    ``lock_wait_s`` with MigrationError; so does a migration that fails, naming its file.
    """
    await _lock(conn, lock_wait_s)
    try:
        await conn.execute(CREATE_TABLE)
        done = []
        for migration in await pending(conn, directory):
            try:
                await _apply_one(conn, migration)
            except asyncpg.PostgresError as exc:
                raise errors.MigrationError(
                    f"{migration.path.name} failed: {exc.__class__.__name__}: {exc}"
                ) from exc
            done.append(migration)
        return done
    finally:
        await conn.execute(UNLOCK, ADVISORY_LOCK_KEY)


async def _lock(conn: asyncpg.Connection, wait_s: float) -> None:
    """Take the migration lock, polling rather than blocking: a caller blocked inside a statement
    holds a snapshot, which a CREATE INDEX CONCURRENTLY run by the lock's holder waits for."""
    deadline = time.monotonic() + wait_s
    while not await conn.fetchval(TRY_LOCK, ADVISORY_LOCK_KEY):
        if time.monotonic() >= deadline:
            raise errors.MigrationError(
                f"another process has been migrating the database for over {wait_s:g} s"
            )
        await asyncio.sleep(LOCK_POLL_S)


async def _apply_one(conn: asyncpg.Connection, migration: Migration) -> None:
    if migration.transactional:
        async with conn.transaction():
            await _run(conn, migration, [migration.sql])
    else:
        await _run(conn, migration, sqlscript.statements(migration.sql))


async def _run(conn: asyncpg.Connection, migration: Migration, statements: list[str]) -> None:
    started = time.perf_counter()
    for statement in statements:
        await _drop_invalid_leftover(conn, statement)
        await conn.execute(statement)
    elapsed_ms = (time.perf_counter() - started) * 1000
    await conn.execute(RECORD, migration.version, migration.name, migration.checksum, elapsed_ms)


async def _drop_invalid_leftover(conn: asyncpg.Connection, statement: str) -> None:
    created = _CREATE_INDEX.match(sqlscript.without_comments(statement))
    if created is None or created.group(1) is None:
        return
    name = created.group(3)
    if await conn.fetchval(INVALID_INDEX, name):
        # The name comes from the migration file, which is code, not from runtime input.
        await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


async def status(conn: asyncpg.Connection) -> list[str]:
    """One line per migration file: applied (with when) or pending."""
    applied_at: dict[int, str] = {}
    if await conn.fetchval("SELECT to_regclass('migrations') IS NOT NULL"):
        rows = await conn.fetch("SELECT version, applied_at FROM migrations")
        applied_at = {r["version"]: r["applied_at"].isoformat() for r in rows}
    return [f"{m.path.name}  {applied_at.get(m.version, 'pending')}" for m in discover()]


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` instead, query string kept."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))


async def recreate_database(admin_url: str, dbname: str) -> str:
    """Drop ``dbname`` on the server of ``admin_url``, create it migrated; return its URL.

    For throwaway databases only: the test template and the bench's own database.
    """
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {dbname}")
    finally:
        await admin.close()
    url = with_database(admin_url, dbname)
    conn = await asyncpg.connect(url)
    try:
        await apply(conn)
    finally:
        await conn.close()
    return url


async def _main(command: str, url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        if command == "apply":
            for migration in await apply(conn):
                print(f"applied {migration.path.name}")
            print("database is up to date")
        else:
            print("\n".join(await status(conn)))
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m configsvc.db.migrations")
    parser.add_argument("command", choices=["apply", "status"], nargs="?", default="apply")
    args = parser.parse_args(argv)
    url = settings_mod.load().database_url
    if not url:
        sys.exit(settings_mod.NO_DATABASE_URL)
    try:
        asyncio.run(_main(args.command, url))
    except errors.MigrationError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
