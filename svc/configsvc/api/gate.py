"""Every request's way in: who is calling (auth/guard.py) before its handler (and so before its
body) is read, and the audit entry of a write refused before it reached the write path.

A refusal inside the write path is audited by the write path itself (service/writes.py), once;
what this middleware audits is what never got there: no token, a malformed body, a bad header.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.auth import guard
from configsvc.db import database
from configsvc.ops import logs
from configsvc.service import audit, writing

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


METRICS_PATH = "/metrics"


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[settings_mod.SETTINGS]
    open_metrics = request.path == METRICS_PATH and settings.metrics_public
    if guard.is_public(request.path) or open_metrics:
        return await handler(request)
    try:
        request[guard.CALLER] = await request.app[guard.GUARD].caller(request)
    except (errors.Unauthenticated, errors.Forbidden) as exc:  # no credentials; no CSRF value
        if request.method not in READS:
            await _audit_refused(request, "denied", str(exc))
        raise
    if request.method in READS or request.query.get("dry_run") == "true":
        return await handler(request)  # a dry run is never audited (see service/writes.py)
    try:
        return await handler(request)
    except errors.ServiceError as exc:
        # A write refused before the write path (a malformed body, a bad header, an unknown
        # target) still leaves its audit entry, and nothing else.
        status = errors.kind(exc).status
        if 400 <= status < 500 and not exc.audited:
            outcome: audit.Outcome = "denied" if status in (401, 403) else "invalid"
            await _audit_refused(request, outcome, str(exc))
        raise
    except web.HTTPClientError as exc:  # 408, 413, 415 raised by aiohttp or bodies.py
        if request.match_info.route.resource is not None:
            await _audit_refused(request, "invalid", exc.text or exc.reason)
        raise


READS = frozenset({"GET", "HEAD", "OPTIONS"})


USER_AGENT_MAX = 512


def writer(request: web.Request, reason: str = "") -> writing.Write:
    """Who is writing: the one place a request's actor, caller and request id are read."""
    who = guard.caller(request)
    token = None if who is None else who.token
    return writing.Write(
        actor=None if token is None else writing.Actor(token.id, token.name),
        caller=who, reason=reason, request_id=logs.REQUEST_ID.get(),
        remote_addr=request.remote,
        user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX] or None,
    )  # fmt: skip


async def _audit_refused(request: web.Request, outcome: audit.Outcome, reason: str) -> None:
    """A write refused outside the write path leaves its audit entry (and nothing else)."""
    resource = request.match_info.route.resource
    action = f"{request.method} {resource.canonical if resource else request.path}"[:200]
    try:
        await audit.refused(request.app[database.DB], writer(request), action, "request",
                            request.match_info.get("id"), None, outcome, reason)  # fmt: skip
    except errors.ServiceError as failed:
        log.warning("could not audit a refused %s: %r", action, failed)
