"""Numbered, forward-only SQL migrations, applied once each however many workers start at once.

Files are ``migrations/NNNN_name.sql``. Each is applied in its own transaction and recorded with
its checksum; a recorded migration whose file was later edited stops start-up.
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

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant will do, as long as nothing else in the database uses it.
ADVISORY_LOCK_KEY = 0x636F6E66  # "conf"
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

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


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a misnamed or duplicate file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if match is None:
            raise errors.MigrationError(f"{path.name}: name must look like 0001_what_it_does.sql")
        version = int(match.group(1))
        if version in found:
            raise errors.MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version, match.group(2), path)
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


async def apply(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply what is pending, each in its own transaction; returns what this call applied.

    A session advisory lock makes concurrent callers (workers starting together) queue up; the
    ones that get it later find nothing left to do.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE)
        done = []
        for migration in await pending(conn, directory):
            started = time.perf_counter()
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO migrations (version, name, checksum, duration_ms)"
                    " VALUES ($1, $2, $3, $4)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                    (time.perf_counter() - started) * 1000,
                )
            done.append(migration)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)


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
