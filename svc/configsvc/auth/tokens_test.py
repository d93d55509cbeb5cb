"""Secrets and grants: what a token may do."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from configsvc.auth import tokens

A, B = "0" * 26, "1" * 26


def token(grants: list[dict[str, str]], admin: bool = False, expires: str | None = None):
    return tokens.Token.from_resource(
        {"id": "T", "name": "t", "admin": admin, "grants": grants, "expires_at": expires}
    )


def test_secrets_are_random_prefixed_and_hashed_to_32_bytes() -> None:
    one, two = tokens.new_secret(), tokens.new_secret()
    assert one != two
    assert one.startswith("cfs_")
    assert len(one) >= 47
    assert tokens.looks_like_secret(one)
    assert len(tokens.hash_secret(one)) == 32
    for bad in ("", "cfs_", "cfs_short", "xyz_" + "a" * 43, "cfs_" + "é" * 43, "cfs_" + "a" * 300):
        assert not tokens.looks_like_secret(bad), bad


def test_write_implies_read_and_star_covers_all() -> None:
    reader = token([{"application_id": A, "access": "read"}])
    assert [reader.may(A, "read"), reader.may(A, "write"), reader.may(B, "read")] == [1, 0, 0]
    assert reader.readable() == [A]
    writer = token(
        [{"application_id": A, "access": "write"}, {"application_id": A, "access": "read"}]
    )
    assert [writer.may(A, "read"), writer.may(A, "write")] == [1, 1]
    star = token([{"application_id": "*", "access": "read"}])
    assert [star.may(B, "read"), star.may(B, "write"), star.readable()] == [1, 0, None]
    admin = token([], admin=True)
    assert [admin.may(B, "write"), admin.may("*", "write"), admin.readable()] == [1, 1, None]


def test_expiry() -> None:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert token([], expires=past).expired()
    assert not token([], expires=future).expired()
    assert not token([]).expired()


def test_the_subprotocol_carries_the_secret_in_base64url_without_padding() -> None:
    secret = tokens.new_secret()
    encoded = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
    assert tokens.decode_subprotocol(encoded) == secret
    assert tokens.decode_subprotocol("!!!") is None
    assert tokens.decode_subprotocol(base64.urlsafe_b64encode(b"\xff\xfe").decode()) is None
