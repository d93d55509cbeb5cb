"""Handlers of /api/v1/configurations, and the list of an application's configurations.

Writes go through the one write path (service/configuration_writes.py on ``writes.apply``);
reads call the repository (store/configurations.py) directly, or the read cache (api/reads.py).
"""

from __future__ import annotations

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.api import applications, bodies, history, operation, paging, reads
from configsvc.db import database
from configsvc.live import entries
from configsvc.service import configuration_writes
from configsvc.service import rollouts as canary
from configsvc.store import configurations

PATH = f"{operation.PREFIX}/configurations"


async def list_configurations(request: web.Request) -> web.Response:
    """In id order, paged like the application list; a page stops early before its
    JSON would be over PAGE_MAX_BYTES (the bytes sent), and always holds at least one. With
    `at_revision=R`: all of them as they were at global revision R (422 if R is above the
    latest or older than history keeps)."""
    app_id = operation.path_id(request, "application")
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    # Checked on both paths (the database is never older than a committed revision), so a bad
    # one is a 422 with `at_revision` too.
    bodies.min_revision(request)
    if "at_revision" in request.query:
        return await history.configurations_at(request)
    limit, after = bodies.limit(request), paging.cursor(request)
    max_bytes = request.app[settings_mod.SETTINGS].page_max_bytes
    async with request.app[database.DB].connection() as conn, reads.snapshot(conn) as revision:
        items, more = await configurations.page(conn, app_id, after, limit, max_bytes)
    return reads.stamped(paging.page(items, more), revision)


async def create_configuration(request: web.Request) -> web.Response:
    """The name is unique within its application; an unknown `application_id` is a 422."""
    body = await bodies.body(request, models.ConfigurationIn)
    if not operation.ID.fullmatch(body.application_id):
        raise errors.Invalid.one("application_id", f"no application with id {body.application_id}")
    resource = await configuration_writes.create_configuration(
        request.app[database.DB], operation.write_of(request), body.application_id,
        body.model_dump(),
    )  # fmt: skip
    revision = resource["revision"]
    return reads.resource_response(resource, 201, f"{PATH}/{resource['id']}", revision)


async def get_configuration(request: web.Request) -> web.Response:
    """The configuration, with its `ETag`."""
    config_id = operation.path_id(request, "configuration")
    entry, revision = await reads.read(request, entries.CONFIG, config_id, configurations.get_at)
    missing = errors.NotFound(f"no configuration with id {config_id}")
    operation.may_read(request, entry.application_id, missing)
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
    config_id = operation.path_id(request, "configuration")
    body = await bodies.body(request, models.ConfigurationReplace)
    resource = await configuration_writes.replace_configuration(
        request.app[database.DB], operation.write_of(request), config_id, body.model_dump(),
        bodies.if_match(request),
    )  # fmt: skip
    return reads.resource_response(resource, revision=resource["revision"])


async def delete_configuration(request: web.Request) -> web.Response:
    """Deletes the configuration; 404 once it is gone."""
    config_id = operation.path_id(request, "configuration")
    revision = await configuration_writes.delete_configuration(
        request.app[database.DB], operation.write_of(request), config_id, bodies.if_match(request)
    )
    return reads.deleted(request, revision)


Op = operation.Operation

OPERATIONS: tuple[Op, ...] = (
    Op("GET", f"{applications.PATH}/{{id}}/configurations", list_configurations,
       "List an application's configurations", "configurations",
       response=models.ConfigurationPage,
       query=("limit", "cursor", "at_revision", bodies.MIN_REVISION_PARAM),
       errors=(404, 422), headers=(bodies.MIN_REVISION_HEADER,)),
    Op("POST", PATH, create_configuration, "Create a configuration",
       "configurations", 201, models.ConfigurationIn, models.Configuration,
       query=("dry_run",), errors=operation.WRITE_ERRORS, needs="write", dry_run=True),
    Op("GET", f"{PATH}/{{id}}", get_configuration, "Read a configuration",
       "configurations", response=models.Configuration,
       query=(bodies.MIN_REVISION_PARAM, "client_id"), errors=(304, 404, 422),
       headers=("If-None-Match", bodies.MIN_REVISION_HEADER)),
    Op("PUT", f"{PATH}/{{id}}", replace_configuration, "Replace a configuration",
       "configurations", 200, models.ConfigurationReplace, models.Configuration,
       query=("dry_run",), errors=(*operation.WRITE_ERRORS, 404, 412), headers=("If-Match",),
       needs="write", dry_run=True),
    Op("DELETE", f"{PATH}/{{id}}", delete_configuration, "Delete a configuration",
       "configurations", 204, query=("dry_run",), errors=(404, 412, 422),
       headers=("If-Match",), needs="write", dry_run=True),
)  # fmt: skip
