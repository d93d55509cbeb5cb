"""Signing in and out: the secret is returned once, only its hash is stored, both audited."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.auth import tokens
from configsvc.service import sessions, writing
from configsvc.service import tokens as token_service


async def test_sign_in_and_out_are_audited_and_store_only_a_hash(pooled, db) -> None:
    made = await token_service.create(pooled, {"name": "person", "admin": True})
    token = tokens.Token.from_resource(made)
    write = writing.Write(actor=writing.Actor(token.id, token.name), request_id="r-1")
    secret, session = await sessions.sign_in(pooled, token, 60, write)
    row = await db.fetchrow("SELECT secret_hash, token_id FROM sessions")
    assert (bytes(row["secret_hash"]), row["token_id"]) == (tokens.hash_secret(secret), token.id)
    await sessions.sign_out(pooled, session["id"], write)
    with pytest.raises(errors.NotFound):
        await sessions.sign_out(pooled, session["id"], write)
    audited = await db.fetch(
        "SELECT action, actor_id, request_id FROM audit WHERE target_kind = 'session' ORDER BY id"
    )
    assert [tuple(r) for r in audited] == [
        ("session.create", token.id, "r-1"), ("session.delete", token.id, "r-1")
    ]  # fmt: skip
    assert secret not in str(await db.fetch("SELECT * FROM audit"))
