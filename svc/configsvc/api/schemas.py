"""JSON Schemas under /api/v1/applications/{id}/schemas: handlers and their operations.

Reads call store/schemas.py directly; put and delete go through the one write path
(service/schema_writes.py on ``writes.apply``).
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, history, operation, paging, reads
from configsvc.db import database
from configsvc.service import schema_writes
from configsvc.store import applications
from configsvc.store import schemas as store


def _name(request: web.Request, app_id: str) -> str:
    """The configuration name in the path, or ``*``; one no configuration can have names
    nothing (404)."""
    raw = request.match_info["name"]
    try:
        name = raw if raw == store.DEFAULT else models.normal_name(raw)
    except ValueError:
        name = ""
    if not name or len(name) > models.NAME_MAX:
        raise errors.NotFound(f"application {app_id} has no schema named {raw[:100]!r}")
    return name


def _target(request: web.Request) -> tuple[str, str]:
    app_id = operation.path_id(request, "application")
    return app_id, _name(request, app_id)


async def put_schema(request: web.Request) -> web.Response:
    """Add or replace the schema of configuration `name` (`*`: of every configuration without
    its own): 201 when new, else 200. The body is the schema: draft 2020-12, only local `$ref`s
    (422 `urn:configsvc:problem:schema` naming each problem). If a current configuration would
    fail it: 409 listing them, unless `force=true`, which stores it and marks them
    `schema_status: invalid`. Stored configurations are never rewritten."""
    app_id, name = _target(request)
    body = await bodies.json_object(request)
    bodies.storable(body, "schema")
    resource, created = await schema_writes.put(
        request.app[database.DB], operation.write_of(request), app_id, name, body,
        bodies.if_match(request), bodies.flag(request, "force"),
    )  # fmt: skip
    # Percent-encoded: a Location header is a URI reference, and names may be any Unicode.
    location = f"{_PATH.format(app_id=app_id)}/{quote(name, safe='*')}" if created else None
    revision = resource["revision"]
    return reads.resource_response(resource, 201 if created else 200, location, revision)


async def get_schema(request: web.Request) -> web.Response:
    """The schema of configuration `name` (or `*`), with its `ETag`."""
    app_id, name = _target(request)
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    async with request.app[database.DB].connection() as conn:
        resource = await store.get(conn, app_id, name)
    return reads.resource_response(resource)


async def list_schemas(request: web.Request) -> web.Response:
    """The application's schemas, in id order, paged like configurations."""
    app_id = operation.path_id(request, "application")
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    limit, after = bodies.limit(request), paging.cursor(request)
    async with request.app[database.DB].connection() as conn:
        await applications.require(conn, app_id)
        items = await store.page(conn, app_id, after, limit + 1)
    return paging.page(items[:limit], len(items) > limit)


async def delete_schema(request: web.Request) -> web.Response:
    """Its configurations fall back to the `*` schema (re-checked: 409 unless `force=true`)
    or to none."""
    app_id, name = _target(request)
    revision = await schema_writes.delete(
        request.app[database.DB], operation.write_of(request), app_id, name,
        bodies.if_match(request), bodies.flag(request, "force"),
    )  # fmt: skip
    return reads.deleted(request, revision)


async def list_schema_versions(request: web.Request) -> web.Response:
    """Newest first, deletions included (a name put again goes on with the same history)."""
    app_id, name = _target(request)
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    limit, below = bodies.limit(request), history.decode_cursor(request, history.INT4_MAX)
    async with request.app[database.DB].connection() as conn:
        await applications.require(conn, app_id)
        items = await store.versions_page(conn, app_id, name, below, limit + 1)
    return history.page_of(items, limit, "version")


_SCHEMAS = f"{operation.PREFIX}/applications/{{id}}/schemas"
_PATH = f"{operation.PREFIX}/applications/{{app_id}}/schemas"
_WRITE_ERRORS = (400, 404, 409, 412, 413, 415, 422)
Op = operation.Operation

OPERATIONS: tuple[operation.Operation, ...] = (
    Op("GET", _SCHEMAS, list_schemas, "List an application's schemas", "schemas",
       response=models.SchemaPage, query=("limit", "cursor"), errors=(404, 422)),
    Op("PUT", f"{_SCHEMAS}/{{name}}", put_schema, "Add or replace a schema", "schemas", 200,
       models.SchemaDocument, models.Schema, query=("schema_name", "force", "dry_run"),
       errors=_WRITE_ERRORS, headers=("If-Match",), needs="write", dry_run=True, created=True),
    Op("GET", f"{_SCHEMAS}/{{name}}", get_schema, "Read a schema", "schemas",
       response=models.Schema, query=("schema_name",), errors=(404,)),
    Op("DELETE", f"{_SCHEMAS}/{{name}}", delete_schema, "Delete a schema", "schemas", 204,
       query=("schema_name", "force", "dry_run"), errors=(404, 409, 412, 422),
       headers=("If-Match",), needs="write", dry_run=True),
    Op("GET", f"{_SCHEMAS}/{{name}}/versions", list_schema_versions, "A schema's versions",
       "history", response=models.SchemaVersionPage, query=("schema_name", "limit", "cursor"),
       errors=(404, 422)),
)  # fmt: skip
