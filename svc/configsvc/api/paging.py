"""Paged lists: opaque cursors (the last id seen) and ``{items, next_cursor}`` pages."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import jsonbody

_ID = re.compile(models.ID_PATTERN)


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def cursor(request: web.Request) -> str:
    """The id to start after, from the ``cursor`` query parameter ('' for the first page)."""
    raw = request.query.get("cursor")
    if raw is None:
        return ""
    try:
        value = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not _ID.fullmatch(value):
        raise errors.Invalid.one("cursor", "is not a cursor this API returned")
    return value


def page(items: list[dict[str, Any]], more: bool) -> web.Response:
    """``{items, next_cursor}``; ``more``: whether a next page has anything."""
    next_cursor = _encode_cursor(items[-1]["id"]) if more else None
    body = {"items": items, "next_cursor": next_cursor}
    return jsonbody.response(body)
