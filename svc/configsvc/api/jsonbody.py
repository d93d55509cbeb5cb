"""Every JSON body the service answers with, in one style: compact (no space after ``,`` or
``:``, as the read cache and the feed write them), numbers exactly as stored, datetimes in ISO
8601 (``configsvc_contract.exactjson``). aiohttp's ``json_response`` would space them and fail on
a fraction, which the database codec reads as a Decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from configsvc_contract import exactjson


def encode(body: Any) -> str:
    """The JSON text of ``body``, as every response writes it."""
    return exactjson.dumps(body)


def response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> web.Response:  # fmt: skip
    """``body`` as a JSON response (UTF-8)."""
    return web.Response(
        text=encode(body), status=status, headers=headers, content_type=content_type
    )
