"""The REST API under /api/v1: handlers and the table of operations they serve.

The table is what the router registers and what openapi.py documents, so the two cannot drift.
Writes go through the one write path (service/writes.py); reads call the repositories
(store/applications.py, store/configurations.py) directly.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
from aiohttp import web
from configsvc_client import models

from configsvc import errors
from configsvc.api import bodies, fleet
from configsvc.db import database
from configsvc.service import writes
from configsvc.store import applications, configurations

PREFIX = "/api/v1"
_ID = re.compile(models.ID_PATTERN)


def _path_id(request: web.Request, what: str) -> str:
    """The id in the path; a malformed one names nothing, so it is a 404 like an unknown one."""
    value = request.match_info["id"]
    if not _ID.fullmatch(value):
        raise errors.NotFound(f"no {what} with id {value}")
    return value


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(request: web.Request) -> str:
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


def _page(items: list[dict[str, Any]], limit: int) -> web.Response:
    """One more row than asked for was fetched: its presence means there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    cursor = _encode_cursor(items[-1]["id"]) if more else None
    return web.json_response({"items": items, "next_cursor": cursor})


def _resource(
    resource: dict[str, Any], status: int = 200, location: str | None = None
) -> web.Response:
    headers = {"ETag": bodies.etag(resource["version"])}
    if location:
        headers["Location"] = location
    return web.json_response(resource, status=status, headers=headers)


def _not_modified(request: web.Request, resource: dict[str, Any]) -> bool:
    return bodies.none_match(request, resource["version"])


def _write(request: web.Request) -> writes.Write:
    """Who is writing and why: the one place a request's actor, reason and id will be read."""
    return writes.Write()


# --- applications ------------------------------------------------------------------------


async def create_application(request: web.Request) -> web.Response:
    """The name is unique among applications; a taken name is a 409 naming it."""
    body = await bodies.body(request, models.ApplicationIn)
    db = request.app[database.DB]
    app = await writes.create_application(db, _write(request), body.name, body.comments)
    return _resource(app, 201, f"{PREFIX}/applications/{app['id']}")


async def get_application(request: web.Request) -> web.Response:
    """The application with the ids of its configurations, in id order."""
    app_id = _path_id(request, "application")
    async with request.app[database.DB].connection() as conn:
        app = await applications.get(conn, app_id)
    if _not_modified(request, app):
        raise web.HTTPNotModified(headers={"ETag": bodies.etag(app["version"])})
    return _resource(app)


async def replace_application(request: web.Request) -> web.Response:
    """Full replacement: an omitted `comments` becomes empty. `version` grows by one."""
    app_id = _path_id(request, "application")
    body = await bodies.body(request, models.ApplicationIn)
    app = await writes.replace_application(
        request.app[database.DB], _write(request), app_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return _resource(app)


async def delete_application(request: web.Request) -> web.Response:
    """Its configurations are deleted with it, in the same transaction."""
    app_id = _path_id(request, "application")
    await writes.delete_application(
        request.app[database.DB], _write(request), app_id, bodies.if_match(request)
    )
    return web.Response(status=204)


async def list_applications(request: web.Request) -> web.Response:
    """In id order; walking `next_cursor` visits every application that existed
    throughout the walk exactly once, even while others are added."""
    limit, after = bodies.limit(request), _decode_cursor(request)
    name = bodies.name_filter(request)
    async with request.app[database.DB].connection() as conn:
        items = await applications.page(conn, after, limit + 1, name)
    return _page(items, limit)


async def list_configurations(request: web.Request) -> web.Response:
    """In id order, paged like the application list."""
    app_id = _path_id(request, "application")
    limit, after = bodies.limit(request), _decode_cursor(request)
    async with request.app[database.DB].connection() as conn:
        items = await configurations.page(conn, app_id, after, limit + 1)
    return _page(items, limit)


# --- configurations ----------------------------------------------------------------------


async def create_configuration(request: web.Request) -> web.Response:
    """The name is unique within its application; an unknown `application_id` is a 422."""
    body = await bodies.body(request, models.ConfigurationIn)
    if not _ID.fullmatch(body.application_id):
        raise errors.Invalid.one("application_id", f"no application with id {body.application_id}")
    resource = await writes.create_configuration(
        request.app[database.DB], _write(request), body.application_id, body.model_dump()
    )
    return _resource(resource, 201, f"{PREFIX}/configurations/{resource['id']}")


async def get_configuration(request: web.Request) -> web.Response:
    """The configuration, with its `ETag`."""
    config_id = _path_id(request, "configuration")
    async with request.app[database.DB].connection() as conn:
        resource = await configurations.get(conn, config_id)
    if _not_modified(request, resource):
        raise web.HTTPNotModified(headers={"ETag": bodies.etag(resource["version"])})
    return _resource(resource)


async def replace_configuration(request: web.Request) -> web.Response:
    """Full replacement; `application_id`, if given, must be the current one:
    a configuration cannot move to another application."""
    config_id = _path_id(request, "configuration")
    body = await bodies.body(request, models.ConfigurationReplace)
    resource = await writes.replace_configuration(
        request.app[database.DB], _write(request), config_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return _resource(resource)


async def delete_configuration(request: web.Request) -> web.Response:
    """Deletes the configuration; 404 once it is gone."""
    config_id = _path_id(request, "configuration")
    await writes.delete_configuration(
        request.app[database.DB], _write(request), config_id, bodies.if_match(request)
    )
    return web.Response(status=204)


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


_WRITE_ERRORS = (400, 409, 413, 415, 422)
_APPS = f"{PREFIX}/applications"
_CONFIGS = f"{PREFIX}/configurations"

OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", _APPS, create_application, "Create an application", "applications",
              201, models.ApplicationIn, models.Application, errors=_WRITE_ERRORS),
    Operation("GET", _APPS, list_applications, "List applications", "applications",
              response=models.ApplicationPage, query=("limit", "cursor", "name"), errors=(422,)),
    Operation("GET", f"{_APPS}/{{id}}", get_application, "Read an application", "applications",
              response=models.ApplicationDetail, errors=(304, 404),
              headers=("If-None-Match",)),
    Operation("PUT", f"{_APPS}/{{id}}", replace_application, "Replace an application",
              "applications", 200, models.ApplicationIn, models.Application,
              errors=(*_WRITE_ERRORS, 404, 412), headers=("If-Match",)),
    Operation("DELETE", f"{_APPS}/{{id}}", delete_application,
              "Delete an application and its configurations", "applications", 204,
              errors=(404, 412), headers=("If-Match",)),
    Operation("GET", f"{_APPS}/{{id}}/configurations", list_configurations,
              "List an application's configurations", "configurations",
              response=models.ConfigurationPage, query=("limit", "cursor"), errors=(404, 422)),
    Operation("POST", _CONFIGS, create_configuration, "Create a configuration",
              "configurations", 201, models.ConfigurationIn, models.Configuration,
              errors=_WRITE_ERRORS),
    Operation("GET", f"{_CONFIGS}/{{id}}", get_configuration, "Read a configuration",
              "configurations", response=models.Configuration, errors=(304, 404),
              headers=("If-None-Match",)),
    Operation("PUT", f"{_CONFIGS}/{{id}}", replace_configuration, "Replace a configuration",
              "configurations", 200, models.ConfigurationReplace, models.Configuration,
              errors=(*_WRITE_ERRORS, 404, 412), headers=("If-Match",)),
    Operation("DELETE", f"{_CONFIGS}/{{id}}", delete_configuration, "Delete a configuration",
              "configurations", 204, errors=(404, 412), headers=("If-Match",)),
    Operation("GET", f"{_APPS}/{{id}}/clients", fleet.list_clients,
              "List the clients subscribed to an application", "fleet",
              response=models.FleetClients, errors=(404,)),
    Operation("GET", f"{_CONFIGS}/{{id}}/clients/summary", fleet.clients_summary,
              "Count a configuration's clients by version", "fleet",
              response=models.ClientsSummary, errors=(404,)),
)  # fmt: skip


def add_routes(app: web.Application) -> None:
    for op in OPERATIONS:
        app.router.add_route(op.method, op.path, op.handler)
