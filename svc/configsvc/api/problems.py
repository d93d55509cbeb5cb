"""Errors as RFC 9457 problem details (``application/problem+json``), in one place.

The middleware turns the service's own errors (shown as ``errors.KINDS`` says) and aiohttp's
HTTP errors into problem responses. A client that leaves mid-request is logged at DEBUG, not
as a database failure; anything else is a bug, logged with its traceback and answered 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from configsvc import errors
from configsvc.api import jsonbody

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"
# nginx's status for a request whose client left first; it only ever reaches the access log.
CLIENT_CLOSED = 499


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    fields: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": f"urn:configsvc:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if fields is not None:
        body["errors"] = [{"field": field, "message": message} for field, message in fields]
    body.update(extra or {})
    return jsonbody.response(body, status=status, headers=headers, content_type=CONTENT_TYPE)


def from_error(exc: errors.ServiceError) -> web.Response:
    kind = errors.kind(exc)
    show = kind.status, kind.slug, kind.title
    if isinstance(exc, errors.SchemaInvalid):
        return problem(*show, exc.detail, extra={"errors": exc.violations})
    if isinstance(exc, errors.SchemaConflict):
        return problem(*show, str(exc), extra={"configurations": exc.configurations})
    if isinstance(exc, errors.Invalid):
        return problem(*show, str(exc), fields=exc.problems, extra=exc.extra)
    if isinstance(exc, errors.Conflict):
        return problem(*show, str(exc), fields=[(exc.field, str(exc))])
    if isinstance(exc, errors.Unauthenticated):
        challenge = 'Bearer realm="configsvc"' + (
            ', error="invalid_token"' if exc.presented else ""
        )
        return problem(*show, str(exc), headers={"WWW-Authenticate": challenge})
    if isinstance(exc, errors.CommitUnknown):
        return problem(*show, str(exc), headers={"Retry-After": "1"})
    if isinstance(exc, errors.Unavailable):
        # The driver's words name hosts and ports: they go to the log, not to the client.
        return problem(*show, "the database is unavailable; retry", headers={"Retry-After": "1"})
    if isinstance(exc, errors.UpgradeRequired):
        return problem(*show, str(exc), headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    if kind.status >= 500:
        return problem(*show, "the server failed; it has been logged")
    return problem(*show, str(exc))


def from_http(exc: web.HTTPException) -> web.Response:
    """aiohttp's own errors (404 route, 405, 413, ...) in the same shape, headers kept."""
    headers = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after"}}
    slug = exc.reason.lower().replace(" ", "-")
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    response = problem(exc.status, slug, exc.reason, detail, headers=headers)
    if exc.status == web.HTTPRequestTimeout.status_code:
        response.force_close()  # the rest of that body may still come: never read it as a request
    return response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.Unavailable as exc:
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
        return from_error(exc)
    except errors.ServiceError as exc:
        if errors.kind(exc).status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)
        return from_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return from_http(exc)
    except ConnectionResetError as exc:
        # Raised by reading the body of a client that left (aiohttp's own reset error is one
        # too): nobody is left to answer, and nothing is wrong with the service.
        log.debug("client left during %s %s: %r", request.method, request.path, exc)
        return web.Response(status=CLIENT_CLOSED, reason="Client Closed Request")
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return problem(500, "internal", "Internal error", "the server failed; it has been logged")
