"""How rows become the JSON the API shows; the change log stores the same shapes."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# RFC 4648's base32 alphabet to Crockford's, which ULIDs use.
_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def new_id() -> str:
    """A ULID: 48 bits of milliseconds since the epoch, then 80 random bits, in Crockford's
    base32. Made with C-speed base32 (a request id is one per request): the 128 bits are
    right-aligned in 160, whose first 6 characters are then always zero."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    return base64.b32encode(value.to_bytes(20))[6:].decode().translate(_CROCKFORD)


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: 2026-11-26T13:25:00.123456Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The members of each resource in the order the API writes them (the functions below); the
# read cache puts a change log entry's members back in this order.
APPLICATION_FIELDS = ("id", "name", "comments", "version", "revision", "created_at", "updated_at")
CONFIGURATION_FIELDS = (
    "id", "application_id", "name", "comments", "config", "version", "revision", "created_at",
    "updated_at",
)  # fmt: skip


def application(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "comments": row["comments"],
        "version": row["version"],
        "revision": row["revision"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def configuration(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "application_id": row["application_id"],
        "name": row["name"],
        "comments": row["comments"],
        "config": row["config"],
        "version": row["version"],
        "revision": row["revision"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }
