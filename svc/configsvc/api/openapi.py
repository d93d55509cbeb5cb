"""The OpenAPI 3.1 document and the API page, generated from ``routes.OPERATIONS`` and the models.

The document is built once at start-up, when every route is registered, so it can mention the
WebSocket feed only if this server really serves it. OpenAPI 3.1 schemas are JSON Schema
2020-12, which is what pydantic emits: the models go into ``components.schemas`` unchanged.
"""

from __future__ import annotations

import functools
import http
import inspect
import json
import re
from importlib import resources
from typing import Any

import pydantic
from aiohttp import hdrs, web
from configsvc_client import models
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from configsvc.api import (
    asyncapi,
    bodies,
    guides,
    history,
    operation,
    problems,
    reads,
    routes,
    search,
)

OPENAPI_PATH = f"{operation.PREFIX}/openapi.json"
DOCS_PATH = f"{operation.PREFIX}/docs"
WS_PATH = asyncapi.WS_PATH
DOCUMENT: web.AppKey[bytes] = web.AppKey("openapi_document", bytes)
PAGE: web.AppKey[bytes] = web.AppKey("docs_page", bytes)
ASSETS: web.AppKey[dict[str, bytes]] = web.AppKey("docs_assets", dict)
# The page's script and style, served beside it (``/api/v1/docs.js``): nothing inline.
_ASSET_TYPES = {"docs.js": "text/javascript", "docs.css": "text/css"}
ASSETS_PATH = f"{operation.PREFIX}/{{name:{'|'.join(re.escape(name) for name in _ASSET_TYPES)}}}"

# Every HTML page: only this service's own files, no inline script or style, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_JSON = "application/json"

# Why each error status happens; the Problem body says which case it was.
_WHEN: dict[int, str] = {
    304: "If-None-Match names the current version: no body, the ETag again.",
    400: "The body is not valid JSON, or not a JSON object.",
    401: "No token, or a malformed, unknown, expired or revoked one; see `WWW-Authenticate`.",
    403: "The token may see the target but lacks the access needed; `detail` names it.",
    404: "The id in the path is unknown or malformed.",
    409: "The name is already taken in its scope (`detail` names it); or, for a schema change, "
    "current configurations would fail it (`urn:configsvc:problem:schema-conflict`, listed "
    "in `configurations`).",
    410: "That version existed but history has pruned it.",
    412: "If-Match names a version that is no longer current.",
    413: "The body is over the size limit.",
    415: "The body is not `application/json`.",
    422: "A field or query parameter is invalid: one entry in `errors` per bad field. A JSON "
    "Schema violation is `urn:configsvc:problem:schema`, with one entry per violation: "
    '`{"field": "config/limits/rate", "keyword": "maximum", "message": ...}` (`field` is a '
    "JSON pointer into the body).",
    503: "The database is unavailable; retry after `Retry-After` seconds.",
}


@functools.cache
def _parameters() -> dict[str, dict[str, Any]]:
    """Built once, on first use: the name patterns take a pass over all of Unicode."""
    return {
        "id": {
            "name": "id", "in": "path", "required": True,
            "description": "The resource's id, a ULID. A malformed id names nothing: 404.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "rollout_id": {
            "name": "rollout_id", "in": "path", "required": True,
            "description": "The rollout's id, a ULID. A malformed id names nothing: 404.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "client_id": {
            "name": "client_id", "in": "query", "required": False,
            "description": "Read as this client does: the candidate of a running rollout that "
                           "targets it (by the labels of its latest `hello`), else the base.",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.CLIENT_ID_MAX,
                       "pattern": "^[^\\x00]*$"},
        },
        "limit": {
            "name": "limit", "in": "query", "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": bodies.LIMIT_MAX,
                       "default": bodies.LIMIT_DEFAULT},
        },
        "cursor": {
            "name": "cursor", "in": "query", "required": False,
            "description": "Opaque: the `next_cursor` of the previous page (else 422).",
            "schema": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"},
        },
        "name": {
            "name": "name", "in": "query", "required": False,
            "description": "Only the application with exactly this name.",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": models.name_pattern()},
        },
        "search_limit": {
            "name": "limit", "in": "query", "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": search.LIMIT_MAX,
                       "default": search.LIMIT_DEFAULT},
        },
        "version": {
            "name": "version", "in": "path", "required": True,
            "description": "A version number (1, 2, ...).",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "from": {
            "name": "from", "in": "query", "required": True,
            "description": "The version to diff from.",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "to": {
            "name": "to", "in": "query", "required": True,
            "description": "The version to diff to.",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "at_revision": {
            "name": "at_revision", "in": "query", "required": False,
            "description": "All of them as they were at this global revision, in one page "
                           "(422 if above the latest or older than history keeps).",
            "schema": {"type": "integer", "minimum": 0, "maximum": bodies.REVISION_MAX},
        },
        "q": {
            "name": "q", "in": "query", "required": True,
            "description": "What to look for: a case-insensitive substring of a name, key or "
                           "value.",
            "schema": {"type": "string", "minLength": 1, "maxLength": search.QUERY_MAX,
                       "pattern": search.QUERY_PATTERN},
        },
        "application_id": {
            "name": "application_id", "in": "query", "required": False,
            "description": "Only entries about this application.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "actor": {
            "name": "actor", "in": "query", "required": False,
            "description": "Only entries by this actor (its id or its name).",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": "^[^\\u0000]*$"},
        },
        "action": {
            "name": "action", "in": "query", "required": False,
            "description": "Only this action, e.g. `configuration.update`.",
            "schema": {"type": "string", "enum": sorted(history.ACTIONS)},
        },
        "outcome": {
            "name": "outcome", "in": "query", "required": False,
            "description": "Only this outcome.",
            "schema": {"type": "string", "enum": ["ok", "denied", "invalid"]},
        },
        "since": {
            "name": "since", "in": "query", "required": False,
            "description": "Only entries at or after this RFC 3339 time.",
            "schema": {"type": "string", "format": "date-time"},
        },
        "until": {
            "name": "until", "in": "query", "required": False,
            "description": "Only entries before this RFC 3339 time.",
            "schema": {"type": "string", "format": "date-time"},
        },
        "schema_name": {
            "name": "name", "in": "path", "required": True,
            "description": "The configuration name the schema covers, or `*` for every "
                           "configuration without a schema of its own (a name no configuration "
                           "can have names nothing: 404).",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": models.name_pattern()},
        },
        "force": {
            "name": "force", "in": "query", "required": False,
            "description": "Store the schema change even if current configurations fail it: they "
                           "are shown with `schema_status: invalid` until fixed (else 409).",
            "schema": {"type": "boolean", "default": False},
        },
        "dry_run": {
            "name": "dry_run", "in": "query", "required": False,
            "description": "Run the whole write (permissions, preconditions, validation), roll it "
                           "back and answer 200 with a `DryRun`: nothing is written, audited or "
                           "sent. Schema violations answer `valid: false`; other refusals are "
                           "answered as by the real write.",
            "schema": {"type": "boolean", "default": False},
        },
        "X-Change-Reason": {
            "name": "X-Change-Reason", "in": "header", "required": False,
            "description": "Why: recorded with the version, the audit entry and the feed's change "
                           "(at most 1,024 characters, as `comments`; else 422).",
            "schema": {"type": "string", "maxLength": models.COMMENTS_MAX,
                       "pattern": models.comments_pattern()},
        },
        "If-Match": {
            "name": "If-Match", "in": "header", "required": False,
            "description": "Write only if the resource still has one of these strong ETags "
                           "(or `*`); else 412.",
            "schema": {"type": "string"}, "example": '"1"',
        },
        "If-None-Match": {
            "name": "If-None-Match", "in": "header", "required": False,
            "description": "304 without a body if the resource still has one of these ETags.",
            "schema": {"type": "string"}, "example": '"1"',
        },
        bodies.MIN_REVISION_HEADER: {
            "name": bodies.MIN_REVISION_HEADER, "in": "header", "required": False,
            "description": "Answer from no state older than this revision (read-your-writes: send "
                           "the highest Config-Revision you have written or seen), from 0 to "
                           f"{bodies.REVISION_MAX}. Else 422.",
            "schema": {"type": "string", "pattern": bodies.REVISION_PATTERN},
        },
        bodies.MIN_REVISION_PARAM: {
            "name": bodies.MIN_REVISION_PARAM, "in": "query", "required": False,
            "description": f"As the {bodies.MIN_REVISION_HEADER} header.",
            "schema": {"type": "integer", "minimum": 0, "maximum": bodies.REVISION_MAX},
        },
    }  # fmt: skip


_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The resource's version as a strong entity tag, for If-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"\d+"$'},
    },
    "Location": {
        "description": "Path of the created resource.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    reads.REVISION_HEADER: {
        "description": "The global revision the response reflects (a write: the one it committed).",
        "required": True,
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "WWW-Authenticate": {
        "description": 'Bearer realm="configsvc", with error="invalid_token" if one was sent.',
        "required": True,
        "schema": {"type": "string"},
    },
}

_SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "A token secret (`cfs_...`) as `Authorization: Bearer <secret>`. On the WebSocket "
            "upgrade it may instead ride in `Sec-WebSocket-Protocol: configsvc.v1, "
            "configsvc.bearer.<base64url of the secret, no padding>`. Never in the URL."
        ),
    }
}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schemas(operations: tuple[operation.Operation, ...]) -> dict[str, Any]:
    """Every model an operation names, request bodies as validated and responses as sent."""
    wanted: list[tuple[type[pydantic.BaseModel], JsonSchemaMode]] = [
        (models.Problem, "serialization"),
        (models.DryRun, "serialization"),
    ]
    for op in operations:
        if op.request is not None:
            wanted.append((op.request, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    _, top = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template=asyncapi.SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _WHEN.get(status, http.HTTPStatus(status).phrase),
        "content": {problems.CONTENT_TYPE: {"schema": {"$ref": asyncapi.SCHEMAS + "Problem"}}},
    }
    if status == 503:
        response["headers"] = {"Retry-After": _ref("headers", "Retry-After")}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": _ref("headers", "WWW-Authenticate")}
    return response


def _refusals(op: operation.Operation) -> tuple[int, ...]:
    """401 for every operation; 403 where a valid token may still lack the access needed
    (a read it may not do is a 404, as if the target did not exist)."""
    return (401,) if op.needs in {"read", "token"} else (401, 403)


def _dry_run(response: dict[str, Any] | None) -> dict[str, Any]:
    """The 200 of an operation that answers dry runs: a DryRun, or (for a real write that
    answers 200) its usual body."""
    dry = {"$ref": asyncapi.SCHEMAS + "DryRun"}
    if response is None:
        return {"description": "OK: the dry run's answer", "content": {_JSON: {"schema": dry}}}
    content = response["content"][_JSON]
    content["schema"] = {"anyOf": [content["schema"], dry]}
    # A dry run's answer has no ETag: the header is there only when the write was real.
    headers = response.get("headers", {})
    response["headers"] = {name: {**_HEADERS[name], "required": False} for name in headers}
    return response


# The tags of the operations whose writes commit a revision (tokens and sessions do not).
REVISIONED_TAGS = frozenset({"applications", "configurations", "history", "schemas"})


def _revision(op: operation.Operation) -> bool:
    """Whether its answers carry Config-Revision: the reads that take a minimum revision, and
    the writes that commit a revision (of applications, configurations and schemas)."""
    return bodies.MIN_REVISION_HEADER in op.headers or (
        op.method != "GET" and op.tag in REVISIONED_TAGS
    )


def _success(op: operation.Operation, status: int | None = None) -> dict[str, Any]:
    status = status or op.status
    response: dict[str, Any] = {"description": http.HTTPStatus(status).phrase}
    headers = {}
    if _revision(op):
        headers[reads.REVISION_HEADER] = _ref("headers", reads.REVISION_HEADER)
    if op.response is None:
        if headers:
            response["headers"] = headers
        return response
    response["content"] = {_JSON: {"schema": {"$ref": asyncapi.SCHEMAS + op.response.__name__}}}
    # A resource carries a version, and every response with one carries it as the ETag.
    if "version" in op.response.model_fields:
        headers["ETag"] = _ref("headers", "ETag")
    if status == 201:
        headers["Location"] = _ref("headers", "Location")
    if headers:
        response["headers"] = headers
    return response


def _responses(op: operation.Operation) -> dict[str, Any]:
    responses = {str(op.status): _success(op)}
    if op.created:
        responses["201"] = _success(op, 201)
    if op.dry_run:
        responses["200"] = _dry_run(responses.get("200"))
    for status in (*op.errors, *_refusals(op), 503):
        if status == 304:
            responses["304"] = {
                "description": _WHEN[304],
                "headers": {"ETag": _ref("headers", "ETag")},
            }
            if _revision(op):
                revision = _ref("headers", reads.REVISION_HEADER)
                responses["304"]["headers"][reads.REVISION_HEADER] = revision
        else:
            responses[str(status)] = _problem_response(status)
    return responses


def _operation(op: operation.Operation) -> dict[str, Any]:
    names = (*(("id",) if "{id}" in op.path else ()), *op.query, *op.headers)
    if op.method != "GET":
        names = (*names, "X-Change-Reason")
    doc: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [_ref("parameters", name) for name in names],
        "responses": _responses(op),
        "security": _BEARER,
    }
    description = inspect.getdoc(op.handler)
    if description:
        doc["description"] = description
    if op.request is not None:
        schema = {"$ref": asyncapi.SCHEMAS + op.request.__name__}
        doc["requestBody"] = {"required": True, "content": {_JSON: {"schema": schema}}}
    return doc


def _feed_operation() -> dict[str, Any]:
    return {
        "operationId": "live_feed",
        "summary": "Live change feed (WebSocket)",
        "tags": ["feed"],
        "description": (
            "Upgrade to a WebSocket to subscribe to applications and receive their "
            "configuration changes as they commit. Its messages, error codes and close codes "
            f"are described by the AsyncAPI 3.0 document at `{asyncapi.ASYNCAPI_PATH}` "
            "(rendered on this page under Live feed)."
        ),
        "responses": {
            "101": {"description": "Switching Protocols: the WebSocket is open."},
            "401": _problem_response(401),
            "426": {
                "description": "A plain GET, without the WebSocket upgrade headers.",
                "headers": {"Upgrade": {"schema": {"type": "string", "const": "websocket"}}},
                "content": {
                    problems.CONTENT_TYPE: {"schema": {"$ref": asyncapi.SCHEMAS + "Problem"}}
                },
            },
        },
        "security": _BEARER,
    }


def serves_feed(app: web.Application) -> bool:
    return any(
        route.method == "GET" and route.resource is not None and route.resource.canonical == WS_PATH
        for route in app.router.routes()
    )


def document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document for what ``app`` serves."""
    paths: dict[str, dict[str, Any]] = {}
    for op in routes.OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    if serves_feed(app):
        paths[WS_PATH] = {"get": _feed_operation()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "configsvc API",
            "version": "1",
            "description": (
                "Centralized configuration service: applications and their configurations. "
                "Errors are RFC 9457 problem details (`application/problem+json`); every "
                "single-resource response carries an `ETag` for If-Match / If-None-Match. "
                "Every response carries `X-Request-Id`: yours when you sent a well-formed one "
                "(1-128 of `A-Za-z0-9._-`), else a new one; it is recorded with what the "
                "request changed (versions, audit trail, the feed's `change` frames)."
            ),
        },
        "tags": [
            {"name": "applications", "description": "Named groups of configurations."},
            {"name": "configurations", "description": "JSON objects of name/value pairs."},
            {"name": "feed", "description": "Live change notifications."},
            {"name": "tokens", "description": "Access tokens and their grants (admin only)."},
            {"name": "fleet", "description": "Which clients run which version."},
            {"name": "schemas", "description": "JSON Schemas that configurations must pass."},
            {"name": "search", "description": "Names, keys and values, within your grants."},
            {"name": "sessions", "description": "The console's sign-in (a session cookie)."},
        ],
        "paths": paths,
        "components": {
            "schemas": _schemas(routes.OPERATIONS),
            "parameters": _parameters(),
            "headers": _HEADERS,
            "securitySchemes": _SECURITY_SCHEMES,
        },
        "security": _BEARER,
    }


async def _build(app: web.Application) -> None:
    """Serialised once: the routes cannot change after start-up."""
    app[DOCUMENT] = json.dumps(document(app), ensure_ascii=False).encode("utf-8")
    static = resources.files("configsvc.api").joinpath("static")
    page = static.joinpath("docs.html").read_text("utf-8")
    app[PAGE] = page.replace(guides.PLACEHOLDER, guides.links(app[guides.GUIDES])).encode()
    app[ASSETS] = {name: static.joinpath(name).read_bytes() for name in _ASSET_TYPES}


async def serve_document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DOCUMENT], content_type=_JSON, charset="utf-8")


async def serve_docs(request: web.Request) -> web.Response:
    return web.Response(body=request.app[PAGE], content_type="text/html", charset="utf-8")


async def serve_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    body = request.app[ASSETS][name]
    return web.Response(body=body, content_type=_ASSET_TYPES[name], charset="utf-8")


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No response is content-sniffed; an HTML page gets the strict CSP and is never framed."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    # The header's media type, read without aiohttp's full parse (this runs on every response).
    media_type = response.headers.get(hdrs.CONTENT_TYPE, "").partition(";")[0].strip().lower()
    if media_type == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"


def add_routes(app: web.Application) -> None:
    """The OpenAPI and AsyncAPI documents, the API page and its assets, the guides, the headers."""
    app.on_startup.append(_build)
    app.on_response_prepare.append(security_headers)
    app.router.add_get(OPENAPI_PATH, serve_document, allow_head=False)
    app.router.add_get(DOCS_PATH, serve_docs, allow_head=False)
    app.router.add_get(ASSETS_PATH, serve_asset, allow_head=False)
    asyncapi.add_routes(app)
    guides.add_routes(app)
