"""Handlers of /api/v1/applications: create, read, replace, delete, list.

Writes go through the one write path (service/application_writes.py on ``writes.apply``); reads
call the repository (store/applications.py) directly, or the read cache (api/reads.py).
"""

from __future__ import annotations

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, operation, paging, reads
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.live import entries
from configsvc.service import application_writes
from configsvc.store import applications

PATH = f"{operation.PREFIX}/applications"


async def create_application(request: web.Request) -> web.Response:
    """The name is unique among applications; a taken name is a 409 naming it."""
    body = await bodies.body(request, models.ApplicationIn)
    db = request.app[database.DB]
    write = operation.write_of(request)
    app = await application_writes.create_application(db, write, body.name, body.comments)
    revision = app["revision"]
    return reads.resource_response(app, 201, f"{PATH}/{app['id']}", revision)


async def get_application(request: web.Request) -> web.Response:
    """The application with the ids of its configurations, in id order."""
    app_id = operation.path_id(request, "application")
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    return reads.answer(
        request, *await reads.read(request, entries.APP, app_id, applications.get_at)
    )


async def replace_application(request: web.Request) -> web.Response:
    """Full replacement: an omitted `comments` becomes empty. `version` grows by one."""
    app_id = operation.path_id(request, "application")
    body = await bodies.body(request, models.ApplicationIn)
    app = await application_writes.replace_application(
        request.app[database.DB], operation.write_of(request), app_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return reads.resource_response(app, revision=app["revision"])


async def delete_application(request: web.Request) -> web.Response:
    """Its configurations are deleted with it, in the same transaction."""
    app_id = operation.path_id(request, "application")
    revision = await application_writes.delete_application(
        request.app[database.DB], operation.write_of(request), app_id, bodies.if_match(request)
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


Op = operation.Operation

OPERATIONS: tuple[Op, ...] = (
    Op("POST", PATH, create_application, "Create an application", "applications",
       201, models.ApplicationIn, models.Application, query=("dry_run",),
       errors=operation.WRITE_ERRORS, needs="create", dry_run=True),
    Op("GET", PATH, list_applications, "List applications", "applications",
       response=models.ApplicationPage,
       query=("limit", "cursor", "name", bodies.MIN_REVISION_PARAM), errors=(422,),
       headers=(bodies.MIN_REVISION_HEADER,), needs="token"),
    Op("GET", f"{PATH}/{{id}}", get_application, "Read an application", "applications",
       response=models.ApplicationDetail, query=(bodies.MIN_REVISION_PARAM,),
       errors=(304, 404, 422), headers=("If-None-Match", bodies.MIN_REVISION_HEADER)),
    Op("PUT", f"{PATH}/{{id}}", replace_application, "Replace an application",
       "applications", 200, models.ApplicationIn, models.Application, query=("dry_run",),
       errors=(*operation.WRITE_ERRORS, 404, 412), headers=("If-Match",), needs="write",
       dry_run=True),
    Op("DELETE", f"{PATH}/{{id}}", delete_application,
       "Delete an application and its configurations", "applications", 204,
       query=("dry_run",), errors=(404, 412, 422), headers=("If-Match",), needs="write",
       dry_run=True),
)  # fmt: skip
