"""The REST API under /api/v1: handlers and the table of operations they serve.

The table is what the router registers and what openapi.py documents, so the two cannot drift.
Writes go through the one write path (service/writes.py); reads call the repositories
(store/applications.py, store/configurations.py) directly.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

import pydantic
from aiohttp import web
from configsvc_client import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.api import bodies, paging, reads, tokens
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.live import cache
from configsvc.service import application_writes, configuration_writes, validators, writing
from configsvc.service import rollouts as canary
from configsvc.store import applications, configurations

PREFIX = "/api/v1"
_ID = re.compile(models.ID_PATTERN)


def path_id(request: web.Request, what: str, key: str = "id") -> str:
    """The id in the path; a malformed one names nothing, so it is a 404 like an unknown one."""
    value = request.match_info[key]
    if not _ID.fullmatch(value):
        raise errors.NotFound(f"no {what} with id {value}")
    return value


def write_of(request: web.Request) -> writing.Write:
    """Who is writing, why, and whether only to try: the reason header and ``dry_run`` are
    checked here, before anything is written."""
    return replace(
        guard.writer(request, bodies.change_reason(request)),
        dry_run=bodies.flag(request, "dry_run"),
        validators=request.app.get(validators.VALIDATORS),
        size=request.content_length or 0,
    )


def may_read(request: web.Request, app_id: str, missing: errors.ServiceError) -> None:
    """Refuse, as if ``app_id`` did not exist, a caller that may not read it."""
    access.authorize(guard.caller(request), app_id, "read", missing)


# --- applications ------------------------------------------------------------------------


async def create_application(request: web.Request) -> web.Response:
    """The name is unique among applications; a taken name is a 409 naming it."""
    body = await bodies.body(request, models.ApplicationIn)
    db = request.app[database.DB]
    app = await application_writes.create_application(
        db, write_of(request), body.name, body.comments
    )
    revision = app["revision"]
    return reads.resource_response(app, 201, f"{PREFIX}/applications/{app['id']}", revision)


async def get_application(request: web.Request) -> web.Response:
    """The application with the ids of its configurations, in id order."""
    app_id = path_id(request, "application")
    may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    return reads.answer(request, *await reads.read(request, cache.APP, app_id, applications.get_at))


async def replace_application(request: web.Request) -> web.Response:
    """Full replacement: an omitted `comments` becomes empty. `version` grows by one."""
    app_id = path_id(request, "application")
    body = await bodies.body(request, models.ApplicationIn)
    app = await application_writes.replace_application(
        request.app[database.DB], write_of(request), app_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return reads.resource_response(app, revision=app["revision"])


async def delete_application(request: web.Request) -> web.Response:
    """Its configurations are deleted with it, in the same transaction."""
    app_id = path_id(request, "application")
    revision = await application_writes.delete_application(
        request.app[database.DB], write_of(request), app_id, bodies.if_match(request)
    )
    return reads.deleted(request, revision)


async def list_applications(request: web.Request) -> web.Response:
    """In id order; walking `next_cursor` visits every application that existed
    throughout the walk exactly once, even while others are added."""
    limit, after = bodies.limit(request), paging.cursor(request)
    name = bodies.name_filter(request)
    bodies.min_revision(request)  # checked; the database is never older than a committed one
    readable = access.readable(guard.caller(request))
    async with request.app[database.DB].connection() as conn, reads.snapshot(conn) as revision:
        items = await applications.page(conn, after, limit + 1, name, readable)
    # One more row than asked for was fetched: its presence means there is a next page.
    return reads.stamped(paging.page(items[:limit], len(items) > limit), revision)


async def list_configurations(request: web.Request) -> web.Response:
    """In id order, paged like the application list; a page stops early before its
    JSON would be over PAGE_MAX_BYTES (the bytes sent), and always holds at least one. With
    `at_revision=R`: all of them as they were at global revision R (422 if R is above the
    latest or older than history keeps)."""
    app_id = path_id(request, "application")
    may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    if "at_revision" in request.query:
        return await history.configurations_at(request)
    limit, after = bodies.limit(request), paging.cursor(request)
    bodies.min_revision(request)
    max_bytes = request.app[settings_mod.SETTINGS].page_max_bytes
    async with request.app[database.DB].connection() as conn, reads.snapshot(conn) as revision:
        items, more = await configurations.page(conn, app_id, after, limit, max_bytes)
    return reads.stamped(paging.page(items, more), revision)


# --- configurations ----------------------------------------------------------------------


async def create_configuration(request: web.Request) -> web.Response:
    """The name is unique within its application; an unknown `application_id` is a 422."""
    body = await bodies.body(request, models.ConfigurationIn)
    if not _ID.fullmatch(body.application_id):
        raise errors.Invalid.one("application_id", f"no application with id {body.application_id}")
    resource = await configuration_writes.create_configuration(
        request.app[database.DB], write_of(request), body.application_id, body.model_dump()
    )
    revision = resource["revision"]
    return reads.resource_response(
        resource, 201, f"{PREFIX}/configurations/{resource['id']}", revision
    )


async def get_configuration(request: web.Request) -> web.Response:
    """The configuration, with its `ETag`."""
    config_id = path_id(request, "configuration")
    entry, revision = await reads.read(request, cache.CONFIG, config_id, configurations.get_at)
    missing = errors.NotFound(f"no configuration with id {config_id}")
    may_read(request, entry.application_id, missing)
    client_id = request.query.get("client_id")
    if client_id is not None:  # a client in a rollout reads what its feed gives it
        if not 1 <= len(client_id) <= models.CLIENT_ID_MAX or "\x00" in client_id:
            raise errors.Invalid.one("client_id", f"must be 1 to {models.CLIENT_ID_MAX} characters")
        db = request.app[database.DB]
        seen = await canary.as_seen_by(db, config_id, entry.application_id, client_id)
        if seen is not None:
            return reads.resource_response(seen, revision=revision)
    return reads.answer(request, entry, revision)


async def replace_configuration(request: web.Request) -> web.Response:
    """Full replacement; `application_id`, if given, must be the current one:
    a configuration cannot move to another application."""
    config_id = path_id(request, "configuration")
    body = await bodies.body(request, models.ConfigurationReplace)
    resource = await configuration_writes.replace_configuration(
        request.app[database.DB], write_of(request), config_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return reads.resource_response(resource, revision=resource["revision"])


async def delete_configuration(request: web.Request) -> web.Response:
    """Deletes the configuration; 404 once it is gone."""
    config_id = path_id(request, "configuration")
    revision = await configuration_writes.delete_configuration(
        request.app[database.DB], write_of(request), config_id, bodies.if_match(request)
    )
    return reads.deleted(request, revision)


# --- the table ---------------------------------------------------------------------------

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


_WRITE_ERRORS = (400, 409, 413, 415, 422)
_APPS = f"{PREFIX}/applications"
_CONFIGS = f"{PREFIX}/configurations"
_TOKENS = f"{PREFIX}/tokens"

OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", _APPS, create_application, "Create an application", "applications",
              201, models.ApplicationIn, models.Application, query=("dry_run",),
              errors=_WRITE_ERRORS, needs="create", dry_run=True),
    Operation("GET", _APPS, list_applications, "List applications", "applications",
              response=models.ApplicationPage,
              query=("limit", "cursor", "name", bodies.MIN_REVISION_PARAM), errors=(422,),
              headers=(bodies.MIN_REVISION_HEADER,), needs="token"),
    Operation("GET", f"{_APPS}/{{id}}", get_application, "Read an application", "applications",
              response=models.ApplicationDetail, query=(bodies.MIN_REVISION_PARAM,),
              errors=(304, 404, 422), headers=("If-None-Match", bodies.MIN_REVISION_HEADER)),
    Operation("PUT", f"{_APPS}/{{id}}", replace_application, "Replace an application",
              "applications", 200, models.ApplicationIn, models.Application, query=("dry_run",),
              errors=(*_WRITE_ERRORS, 404, 412), headers=("If-Match",), needs="write",
              dry_run=True),
    Operation("DELETE", f"{_APPS}/{{id}}", delete_application,
              "Delete an application and its configurations", "applications", 204,
              query=("dry_run",), errors=(404, 412, 422), headers=("If-Match",), needs="write",
              dry_run=True),
    Operation("GET", f"{_APPS}/{{id}}/configurations", list_configurations,
              "List an application's configurations", "configurations",
              response=models.ConfigurationPage,
              query=("limit", "cursor", "at_revision", bodies.MIN_REVISION_PARAM),
              errors=(404, 422), headers=(bodies.MIN_REVISION_HEADER,)),
    Operation("POST", _CONFIGS, create_configuration, "Create a configuration",
              "configurations", 201, models.ConfigurationIn, models.Configuration,
              query=("dry_run",), errors=_WRITE_ERRORS, needs="write", dry_run=True),
    Operation("GET", f"{_CONFIGS}/{{id}}", get_configuration, "Read a configuration",
              "configurations", response=models.Configuration,
              query=(bodies.MIN_REVISION_PARAM, "client_id"), errors=(304, 404, 422),
              headers=("If-None-Match", bodies.MIN_REVISION_HEADER)),
    Operation("PUT", f"{_CONFIGS}/{{id}}", replace_configuration, "Replace a configuration",
              "configurations", 200, models.ConfigurationReplace, models.Configuration,
              query=("dry_run",), errors=(*_WRITE_ERRORS, 404, 412), headers=("If-Match",),
              needs="write", dry_run=True),
    Operation("DELETE", f"{_CONFIGS}/{{id}}", delete_configuration, "Delete a configuration",
              "configurations", 204, query=("dry_run",), errors=(404, 412, 422),
              headers=("If-Match",), needs="write", dry_run=True),
    Operation("POST", _TOKENS, tokens.create_token, "Create a token", "tokens", 201,
              models.TokenIn, models.TokenCreated, errors=(400, 413, 415, 422), needs="admin"),
    Operation("GET", _TOKENS, tokens.list_tokens, "List tokens", "tokens",
              response=models.TokenPage, query=("limit", "cursor"), errors=(422,),
              needs="admin"),
    # Before {id}: the router tries routes in the order they are added.
    Operation("GET", f"{_TOKENS}/self", tokens.get_own_token, "Read the caller's own token",
              "tokens", response=models.Token, needs="token"),
    Operation("GET", f"{_TOKENS}/{{id}}", tokens.get_token, "Read a token", "tokens",
              response=models.Token, errors=(404,), needs="admin"),
    Operation("PUT", f"{_TOKENS}/{{id}}", tokens.replace_token, "Replace a token", "tokens",
              200, models.TokenReplace, models.Token, errors=(400, 404, 413, 415, 422),
              needs="admin"),
    Operation("DELETE", f"{_TOKENS}/{{id}}", tokens.delete_token, "Revoke a token", "tokens",
              204, errors=(404, 422), needs="admin"),
)  # fmt: skip


# Last: history's and the fleet's handlers use this module's helpers (api/__init__.py imports
# this module first).
from configsvc.api import dryrun, fleet, history, rollouts, search, sessions  # noqa: E402
from configsvc.api import schemas as schema_api  # noqa: E402

OPERATIONS = (
    *OPERATIONS,
    *history.OPERATIONS,
    *fleet.OPERATIONS,
    *rollouts.OPERATIONS,
    *schema_api.OPERATIONS,
    *search.OPERATIONS,
    *sessions.OPERATIONS,
)


def route_path(path: str, paths: set[str]) -> str:
    """``path`` as registered: a ``{param}`` segment does not match a literal sibling's segment
    (``/tokens/{id}`` never matches ``/tokens/self``), so a method the literal path lacks is a
    405 with its ``Allow``, not the ``{id}`` route's 404. Names in the path stay as documented."""
    segments = path.split("/")
    others = [other.split("/") for other in paths]
    routed = list(segments)
    for i, segment in enumerate(segments):
        literals = sorted({o[i] for o in others if len(o) > i and o[:i] == segments[:i]
                           and not o[i].startswith("{")})  # fmt: skip
        if segment.startswith("{") and literals:
            taken = "|".join(map(re.escape, literals))
            routed[i] = f"{{{segment[1:-1]}:(?!(?:{taken})$)[^/]+}}"
    return "/".join(routed)


def add_routes(app: web.Application) -> None:
    paths = {op.path for op in OPERATIONS}
    for op in OPERATIONS:
        handler = dryrun.supported(op.handler) if op.dry_run else op.handler
        app.router.add_route(op.method, route_path(op.path, paths), handler)
