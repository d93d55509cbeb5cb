"""What a token is and what it may do; how secrets are made and hashed.

A secret is ``cfs_`` and 32 random bytes (URL-safe base64). Only its SHA-256 is stored: for
256 random bits a fast hash is enough (nobody can guess their way to a preimage), and it makes
the lookup a single index probe. Secrets are never compared, only their digests are looked up
(in the cache, then by the unique index), so response times say nothing about a secret. The
secret itself is shown once, in the response that created the token, and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

PREFIX = "cfs_"
# secrets.token_urlsafe(32) is 43 characters; shorter secrets were never made by us.
SECRET_MIN = len(PREFIX) + 43
SECRET_MAX = 256
ALL = "*"
# Browsers cannot set headers on a WebSocket upgrade: the secret may ride in this subprotocol.
BEARER_SUBPROTOCOL = "configsvc.bearer."

Access = Literal["read", "write"]


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


_SHAPE = re.compile(rf"{PREFIX}[A-Za-z0-9_-]*")


def looks_like_secret(value: str) -> bool:
    """Shape only: the prefix, a sane length, URL-safe characters."""
    return SECRET_MIN <= len(value) <= SECRET_MAX and _SHAPE.fullmatch(value) is not None


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def decode_subprotocol(value: str) -> str | None:
    """The secret carried by ``configsvc.bearer.<base64url, no padding>``, or None."""
    try:
        padded = value + "=" * (-len(value) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class Token:
    """A token as the cache holds it: who it is and what it may do."""

    id: str
    name: str
    admin: bool
    grants: dict[str, Access]  # application id (or "*") -> the widest access granted
    expires_at: datetime | None
    metrics: bool = False  # may read GET /metrics (a "metrics" grant)

    @classmethod
    def from_resource(cls, resource: dict[str, Any]) -> Token:
        grants: dict[str, Access] = {}
        metrics = False
        for grant in resource["grants"]:
            if grant["access"] == "metrics":
                metrics = True
            elif grants.get(grant["application_id"]) != "write":
                grants[grant["application_id"]] = grant["access"]
        expires = resource["expires_at"]
        return cls(
            resource["id"], resource["name"], resource["admin"], grants,
            None if expires is None else datetime.fromisoformat(expires), metrics,
        )  # fmt: skip

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC))

    def may(self, application_id: str, access: Access) -> bool:
        """``write`` implies ``read``; a grant on ``*`` covers every application."""
        if self.admin:
            return True
        for key in (application_id, ALL):
            granted = self.grants.get(key)
            if granted == "write" or granted == access:
                return True
        return False

    def readable(self) -> list[str] | None:
        """The application ids this token may read; None for all of them."""
        if self.admin or ALL in self.grants:
            return None
        return sorted(self.grants)
