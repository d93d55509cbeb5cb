"""``python -m configsvc tokens ...``: straight to the database, the way back in."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys

from configsvc import settings as settings_mod
from configsvc.auth import tokens
from configsvc.ops import tokens_cli as cli


def _tokens(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "configsvc", "tokens", *args],
        cwd=settings_mod.SVC_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_create_list_and_revoke_through_the_database(database_url, client, db) -> None:
    made = await asyncio.to_thread(_tokens, database_url, "create", "--name", "rescue", "--admin")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert tokens.looks_like_secret(secret)
    assert secret not in made.stderr
    resp = await client.get("/api/v1/tokens/self", headers={"Authorization": f"Bearer {secret}"})
    assert (await resp.json())["name"] == "rescue"

    listed = await asyncio.to_thread(_tokens, database_url, "list")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["name"] for r in rows} == {"bootstrap", "rescue"}
    assert secret not in listed.stdout

    rescue = next(r["id"] for r in rows if r["name"] == "rescue")
    revoked = await asyncio.to_thread(_tokens, database_url, "revoke", rescue)
    assert revoked.returncode == 0, revoked.stderr
    async with asyncio.timeout(10):
        while True:  # the running server hears the revocation
            resp = await client.get(
                "/api/v1/applications", headers={"Authorization": f"Bearer {secret}"}
            )
            if resp.status == 401:
                break
            await asyncio.sleep(0.05)


async def test_grants_expiry_and_bad_input(database_url, db, monkeypatch, capsys) -> None:
    """In-process this time: ``cli.main`` as ``python -m configsvc tokens`` calls it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    app_id = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"
    out = io.StringIO()
    argv = ["create", "--name", "ci", "--grant", f"{app_id}:read", "--grant", "*:write",
            "--expires", "2100-01-01T00:00:00Z"]  # fmt: skip
    assert await asyncio.to_thread(cli.main, argv, out) == 0
    assert tokens.looks_like_secret(out.getvalue().strip())
    row = await db.fetchrow("SELECT grants, expires_at FROM tokens WHERE name = 'ci'")
    assert json.loads(row["grants"]) == [{"application_id": app_id, "access": "read"},
                                         {"application_id": "*", "access": "write"}]  # fmt: skip
    capsys.readouterr()
    expired = ["create", "--name", "x", "--admin", "--expires", "2000-01-01T00:00:00Z"]
    for bad in (["create", "--name", "x"], ["create", "--name", "x", "--grant", "nope:read"],
                ["create", "--name", "x", "--admin", "--expires", "soon"], expired):  # fmt: skip
        assert await asyncio.to_thread(cli.main, bad, out) == 2, bad
        assert capsys.readouterr().err.startswith("error:"), bad
    assert await asyncio.to_thread(cli.main, ["revoke", "0" * 26], out) == 1
    assert "no token" in capsys.readouterr().err
    listed = io.StringIO()
    assert await asyncio.to_thread(cli.main, ["list"], listed) == 0
    assert [json.loads(line)["name"] for line in listed.getvalue().splitlines()] == ["ci"]
