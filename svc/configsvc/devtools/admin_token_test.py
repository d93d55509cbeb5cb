"""The quick start's admin token file: made once, owner-only, and the secret works."""

from __future__ import annotations

import asyncio
import stat

from configsvc.auth import tokens
from configsvc.devtools import admin_token


async def test_the_first_admin_token_is_written_once_readable_only_by_its_owner(
    database_url, db, tmp_path
) -> None:
    path = tmp_path / ".admin-token"
    made = await asyncio.to_thread(admin_token.ensure_admin_token_file, database_url, path)
    assert made == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    row = await db.fetchrow("SELECT name, admin, secret_hash FROM tokens")
    assert (row["name"], row["admin"]) == (admin_token.TOKEN_NAME, True)
    assert bytes(row["secret_hash"]) == tokens.hash_secret(secret)

    again = await asyncio.to_thread(admin_token.ensure_admin_token_file, database_url, path)
    assert again is None, "an admin token exists: nothing is made"
    assert path.read_text().strip() == secret, "and the file is left alone"
    assert await db.fetchval("SELECT count(*) FROM tokens") == 1
    assert list(tmp_path.iterdir()) == [path]
