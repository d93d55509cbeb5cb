"""One operation of the REST API, and what every operation's handler reads from its request
besides its body: the id in its path, the write it asks for, whether its caller may read.

Each feature's module (applications.py, tokens.py, history.py, ...) declares its
``OPERATIONS`` with these; routes.py collects them into the one table that the router registers
and the OpenAPI document describes. This module imports no feature module, so every feature
module may import it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import pydantic
from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, gate
from configsvc.auth import access, guard
from configsvc.service import validators, writing

PREFIX = "/api/v1"
ID = re.compile(models.ID_PATTERN)
# What a write with a body may be refused with: not JSON, a taken name, too large, not
# `application/json`, an invalid field (and 404, 412 where the path names its target).
WRITE_ERRORS = (400, 409, 413, 415, 422)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Operation:
    """One method on one path, with what the OpenAPI document says about it."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    status: int = 200
    request: type[pydantic.BaseModel] | None = None
    response: type[pydantic.BaseModel] | None = None
    query: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()
    headers: tuple[str, ...] = field(default=())
    # What the caller needs: "read"/"write" on the application in the path or body, "create"
    # (write on "*"), "admin", or "token" (any valid token).
    needs: str = "read"
    # Answers ?dry_run=true (api/dryrun.py); ``created``: may also answer 201.
    dry_run: bool = False
    created: bool = False


def path_id(request: web.Request, what: str, key: str = "id") -> str:
    """The id in the path; a malformed one names nothing, so it is a 404 like an unknown one."""
    value = request.match_info[key]
    if not ID.fullmatch(value):
        raise errors.NotFound(f"no {what} with id {value}")
    return value


def write_of(request: web.Request) -> writing.Write:
    """Who is writing, why, and whether only to try: the reason header and ``dry_run`` are
    checked here, before anything is written."""
    return replace(
        gate.writer(request, bodies.change_reason(request)),
        dry_run=bodies.flag(request, "dry_run"),
        validators=request.app.get(validators.VALIDATORS),
        size=request.content_length or 0,
    )


def may_read(request: web.Request, app_id: str, missing: errors.ServiceError) -> None:
    """Refuse, as if ``app_id`` did not exist, a caller that may not read it."""
    access.authorize(guard.caller(request), app_id, "read", missing)
