"""``?dry_run=true`` on every write: the whole write path runs, then rolls back, and this answers.

200 with ``{"valid", "errors", "status", "patch", "would_be_version", "subscribers"}``. Only a
schema refusal (a 422 schema violation, a 409 schema change) becomes ``valid: false``: it is
about the content, which is what a dry run is asked about. Every other refusal (400, 403, 404,
409 on a taken name, 412, 415, 422 on a malformed field) is answered as the real write would
answer it. Dry runs are not audited: they leave the database exactly as it was.

``subscribers`` counts the live subscriptions to the application across every worker, from the
fleet tables each worker refreshes about once a second (live/clients.py): a socket that
subscribed within the last second may not be counted yet.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from configsvc import errors
from configsvc.api import bodies, jsonbody
from configsvc.db import database
from configsvc.live import clients as live_clients
from configsvc.live import hub
from configsvc.service import previews
from configsvc.store import clients

PARAMETER = "dry_run"


def requested(request: web.Request) -> bool:
    """Whether ``?dry_run=true`` (``false`` or absent: no; anything else: 422)."""
    return bodies.flag(request, PARAMETER)


async def _subscribers(request: web.Request, preview: previews.Preview) -> int:
    if preview.op in hub.SILENT_OPS:
        return 0
    async with request.app[database.DB].connection() as conn:
        return await clients.live_count(conn, preview.application_id, live_clients.EXPIRY_S)


def _answer(body: dict[str, Any]) -> web.Response:
    return jsonbody.response(body)


async def answer(request: web.Request, preview: previews.Preview, **more: Any) -> web.Response:
    """The dry run's answer; ``more``: what an operation says beyond it (a rollout's reach)."""
    return _answer(
        {"valid": preview.invalid is None, "errors": preview.errors(), "status": preview.status,
         "patch": preview.patch(), "would_be_version": preview.would_be_version,
         "subscribers": await _subscribers(request, preview), **more}
    )  # fmt: skip


def _refused(invalid: errors.SchemaInvalid) -> web.Response:
    """A body refused before the write path (a schema that is not a schema): nothing to patch."""
    return _answer(
        {"valid": False, "errors": invalid.violations, "status": errors.kind(invalid).status,
         "patch": [], "would_be_version": None, "subscribers": 0}
    )  # fmt: skip


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def supported(handler: Handler) -> Handler:
    """``handler`` answering dry runs (its writes read ``dry_run`` through operation.write_of)."""

    @functools.wraps(handler)
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except previews.DryRun as done:
            return await answer(request, done.preview)
        except errors.SchemaInvalid as invalid:
            if requested(request):
                return _refused(invalid)
            raise

    return run
