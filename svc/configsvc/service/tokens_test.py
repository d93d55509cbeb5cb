"""The tokens' write path: secrets shown once and stored only hashed; bootstrap; last use."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from configsvc import errors
from configsvc.api import operation
from configsvc.auth import guard, tokens
from configsvc.devtools import pgcluster
from configsvc.service import tokens as token_service

API = operation.PREFIX


def _pg_dump(database_url: str) -> str:
    bindir = pgcluster.find_bindir()
    if bindir is None or not (bindir / "pg_dump").exists():
        pytest.skip("no pg_dump next to initdb")
    return subprocess.run(
        [str(Path(bindir) / "pg_dump"), "--data-only", database_url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


async def test_no_secret_is_ever_stored_logged_or_echoed(
    client, database_url, admin_token, caplog
) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    secrets = [admin_token]
    for access in ("read", "write"):
        grants = [{"application_id": app["id"], "access": access}]
        resp = await client.post(f"{API}/tokens", json={"name": access, "grants": grants})
        created = await resp.json()
        assert tokens.looks_like_secret(created["token"])
        secrets.append(created["token"])
        headers = {"Authorization": f"Bearer {created['token']}"}
        body = {"application_id": app["id"], "name": access, "config": {}}
        await client.post(f"{API}/configurations", json=body, headers=headers)
        resp = await client.get(f"{API}/tokens/{created['id']}")
        assert "token" not in await resp.json(), "shown once, in the creation response only"
    listed = await (await client.get(f"{API}/tokens")).text()
    dump = await asyncio.to_thread(_pg_dump, database_url)
    assert "bootstrap" in dump, "the dump holds the tokens"
    assert "cfs_" not in dump
    for secret in secrets:
        assert secret not in dump
        assert secret[4:] not in dump
        assert secret not in listed
        assert secret not in caplog.text


async def test_bootstrap_stores_one_admin_token_however_many_workers_start(
    service_factory, db, admin_token
) -> None:
    service_factory(workers=3)
    rows = await db.fetch("SELECT name, admin, secret_hash FROM tokens")
    assert [(r["name"], r["admin"]) for r in rows] == [("bootstrap", True)]
    assert bytes(rows[0]["secret_hash"]) == tokens.hash_secret(admin_token)


async def test_bootstrap_leaves_an_existing_admin_alone(pooled, db) -> None:
    await token_service.create(pooled, {"name": "first", "admin": True})
    assert not await token_service.bootstrap(pooled, tokens.new_secret())
    assert await db.fetchval("SELECT count(*) FROM tokens") == 1


async def test_last_use_is_recorded_soon_but_written_at_most_once_a_minute(
    client, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard, "FLUSH_EVERY_S", 0.1)  # many flushes in the wait below
    query = "SELECT last_used_at FROM tokens WHERE name = 'bootstrap'"
    assert await db.fetchval(query) is None
    await client.get(f"{API}/applications")
    async with asyncio.timeout(10):
        while (first := await db.fetchval(query)) is None:
            await asyncio.sleep(0.1)
    for _ in range(5):
        await client.get(f"{API}/applications")
    await asyncio.sleep(0.5)  # a few flushes: nothing is due for another minute
    assert await db.fetchval(query) == first
    own = await (await client.get(f"{API}/tokens/self")).json()
    assert own["last_used_at"] is not None


async def test_no_path_makes_a_token_expired_already_or_with_a_grant_twice(pooled, db) -> None:
    """The command line (the way back in when every admin token is lost) goes through here too."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    grant = {"application_id": "*", "access": "read"}
    with pytest.raises(errors.Invalid) as refused:
        await token_service.create(pooled, {"name": "t", "admin": True, "expires_at": past})
    assert [field for field, _ in refused.value.problems] == ["expires_at"]
    with pytest.raises(errors.Invalid) as refused:
        await token_service.create(pooled, {"name": "t", "grants": [grant, grant]})
    assert [field for field, _ in refused.value.problems] == ["grants.1"]
    made = await token_service.create(pooled, {"name": "t", "grants": [grant]})
    with pytest.raises(errors.Invalid) as refused:
        await token_service.replace(pooled, made["id"], "t", [grant, grant], past)
    assert [field for field, _ in refused.value.problems] == ["expires_at", "grants.1"]
    rows = await db.fetch("SELECT name, grants, expires_at FROM tokens")
    assert [(r["name"], r["expires_at"]) for r in rows] == [("t", None)]
    assert await db.fetchval("SELECT count(*) FROM audit WHERE target_kind = 'token'") == 1
