"""Errors as RFC 9457 problem details (``application/problem+json``), in one place.

The middleware turns the service's own errors, aiohttp's HTTP errors and a lost database into
problem responses; anything else is a bug, logged with its traceback and answered 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from configsvc import errors
from configsvc.db import database

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"

_BY_ERROR: dict[type[errors.ServiceError], tuple[int, str, str]] = {
    errors.BadRequest: (400, "bad-request", "Malformed request body"),
    errors.Invalid: (422, "validation", "Validation failed"),
    errors.NotFound: (404, "not-found", "Not found"),
    errors.Conflict: (409, "conflict", "Name already taken"),
    errors.PreconditionFailed: (412, "precondition-failed", "Precondition failed"),
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    fields: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": f"urn:configsvc:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if fields is not None:
        body["errors"] = [{"field": field, "message": message} for field, message in fields]
    return web.Response(
        status=status,
        text=json.dumps(body, ensure_ascii=False),
        content_type=CONTENT_TYPE,
        headers=headers,
    )


def upgrade_required() -> web.Response:
    """The answer to a plain GET on the WebSocket feed: 426 with ``Upgrade: websocket``."""
    return problem(
        426, "upgrade-required", "Upgrade Required",
        "this is the WebSocket feed: connect with a WebSocket client (Upgrade: websocket)",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )  # fmt: skip


def from_error(exc: errors.ServiceError) -> web.Response:
    status, slug, title = _BY_ERROR.get(type(exc), (500, "internal", "Internal error"))
    if isinstance(exc, errors.Invalid):
        return problem(status, slug, title, str(exc), fields=exc.problems)
    if isinstance(exc, errors.Conflict):
        return problem(status, slug, title, str(exc), fields=[(exc.field, str(exc))])
    return problem(status, slug, title, str(exc))


def from_http(exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (404 route, 405, 413, ...) in the same shape, headers kept."""
    headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
    slug = exc.reason.lower().replace(" ", "-")
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return problem(exc.status, slug, exc.reason, detail, headers=headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ServiceError as exc:
        return from_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http(exc)
    except database.UNAVAILABLE as exc:
        log.warning("database unavailable during %s %s: %r", request.method, request.path, exc)
        return problem(
            503, "unavailable", "Service unavailable", "the database is unavailable; retry",
            headers={"Retry-After": "1"},
        )  # fmt: skip
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem(500, "internal", "Internal error", "the server failed; it has been logged")
