"""Quick start: the first admin token of a local database, in a file only its owner can read.

``make run`` on the project-local PostgreSQL calls :func:`ensure_admin_token_file`: while the
database has no admin token, it makes one and writes the secret to ``path`` (mode 0600,
gitignored), so that ``TOKEN=$(cat svc/.admin-token)`` works at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import asyncpg

from configsvc.auth import tokens
from configsvc.db import database, failures, migrations
from configsvc.service import tokens as token_service

ADMIN_TOKEN_FILE = Path(__file__).resolve().parents[2] / ".admin-token"
TOKEN_NAME = "local-admin"  # noqa: S105 (a name, not a secret)


def _write_private(path: Path, secret: str) -> None:
    """Create ``path`` readable by its owner only, from the start (no window at 0644)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")


async def _store(database_url: str, secret: str) -> bool:
    with failures.classified():
        pool = await asyncpg.create_pool(database_url, min_size=0, max_size=1,
                                         init=database.init_connection)  # fmt: skip
    try:
        db = database.Database(pool, acquire_timeout_s=10)
        async with db.connection() as conn:
            await migrations.apply(conn)
        return await token_service.bootstrap(db, secret, TOKEN_NAME)
    finally:
        await pool.close()


def ensure_admin_token_file(database_url: str, path: Path = ADMIN_TOKEN_FILE) -> Path | None:
    """If the database has no admin token: make one, write its secret to ``path`` (0600) and
    return ``path``. None when an admin token exists already (the file is left alone)."""
    secret = tokens.new_secret()
    staged = path.with_name(path.name + ".new")
    # The secret reaches the disk before the database: a crash in between leaves a stray
    # file, never an admin token whose secret nobody has.
    _write_private(staged, secret)
    try:
        stored = asyncio.run(_store(database_url, secret))
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if not stored:
        staged.unlink(missing_ok=True)
        return None
    staged.replace(path)
    return path
