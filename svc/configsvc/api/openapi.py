"""The OpenAPI 3.1 document and the API page, generated from ``routes.OPERATIONS`` and the models.

The document is built once at start-up, when every route is registered, so it can mention the
WebSocket feed only if this server really serves it. OpenAPI 3.1 schemas are JSON Schema
2020-12, which is what pydantic emits: the models go into ``components.schemas`` unchanged.
"""

from __future__ import annotations

import inspect
import json
import re
from importlib import resources
from typing import Any

import pydantic
from aiohttp import hdrs, web
from configsvc_contract import models
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from configsvc.api import (
    asyncapi,
    guides,
    operation,
    parameters,
    problems,
    responses,
    routes,
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


def _operation(op: operation.Operation) -> dict[str, Any]:
    names = (*(("id",) if "{id}" in op.path else ()), *op.query, *op.headers)
    if op.method != "GET":
        names = (*names, "X-Change-Reason")
    doc: dict[str, Any] = {
        "operationId": op.handler.__name__,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [responses.ref("parameters", name) for name in names],
        "responses": responses.of(op),
        "security": _BEARER,
    }
    description = inspect.getdoc(op.handler)
    if description:
        doc["description"] = description
    if op.request is not None:
        schema = {"$ref": asyncapi.SCHEMAS + op.request.__name__}
        doc["requestBody"] = {"required": True, "content": {responses.JSON: {"schema": schema}}}
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
            "401": responses.problem(401),
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
            "parameters": parameters.parameters(),
            "headers": responses.HEADERS,
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
    return web.Response(body=request.app[DOCUMENT], content_type=responses.JSON, charset="utf-8")


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
