"""How rows become the JSON the API shows; the change log stores the same shapes."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two base32 digits for every 10-bit value: a ULID is 13 lookups (one per request id).
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = range(70, -1, -10)


def new_id() -> str:
    """A ULID: 48 bits of milliseconds since the epoch (10 digits), then 80 random bits (16),
    in Crockford's base32."""
    ms = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10))
    pairs = _PAIRS
    return "".join(
        (_CROCKFORD[ms >> 45], pairs[(ms >> 35) & 1023], pairs[(ms >> 25) & 1023],
         pairs[(ms >> 15) & 1023], pairs[(ms >> 5) & 1023], _CROCKFORD[ms & 31],
         *[pairs[(random >> shift) & 1023] for shift in _SHIFTS])
    )  # fmt: skip


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: 2026-11-26T13:25:00.123456Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The members of each resource in the order the API writes them (the functions below); the
# read cache puts a change log entry's members back in this order.
APPLICATION_FIELDS = ("id", "name", "comments", "version", "revision", "created_at", "updated_at")
CONFIGURATION_FIELDS = (
    "id", "application_id", "name", "comments", "config", "version", "revision", "created_at",
    "updated_at", "schema_status", "schema_errors",
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
        # How it fares against its JSON Schema: none (no schema), valid, or invalid (a schema
        # stored with ?force=true), with the errors (a list; empty unless invalid).
        "schema_status": row["schema_status"],
        "schema_errors": row["schema_errors"] or [],
    }
