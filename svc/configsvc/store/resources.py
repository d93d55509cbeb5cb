"""How rows become the JSON the API shows; the change log stores the same shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import ulid


def new_id() -> str:
    return str(ulid.ULID())


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``: 2026-11-26T13:25:00.123456Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
