"""The OpenAPI document against the router, and against what the real server really sends."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from typing import Any

import pydantic
import pytest
from aiohttp import web
from configsvc_contract import models

from configsvc import app as app_mod
from configsvc.api import (
    asyncapi,
    console,
    history,
    openapi,
    operation,
    rollouts,
    routes,
    search,
    sessions,
)
from configsvc.api import schemas as schema_api

# The documents and the pages themselves; the page's assets' route reads /api/v1/{name}.
UNDOCUMENTED = {"/metrics", "/healthz", "/readyz", openapi.OPENAPI_PATH, openapi.DOCS_PATH,
                asyncapi.ASYNCAPI_PATH, f"{operation.PREFIX}/{{name}}", "/", console.UI_PATH,
                f"{console.UI_PATH}/{{name}}", f"{operation.PREFIX}/docs/{{name}}"}  # fmt: skip
APPS, CONFIGS = f"{operation.PREFIX}/applications", f"{operation.PREFIX}/configurations"
APP, CONFIG = f"{APPS}/{{id}}", f"{CONFIGS}/{{id}}"
APP_CONFIGS = f"{APP}/configurations"
TOKENS = f"{operation.PREFIX}/tokens"
TOKEN = f"{TOKENS}/{{id}}"
NOBODY = "0" * 26


def served(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource.canonical not in UNDOCUMENTED
    }


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        for key in node["$ref"].removeprefix("#/").split("/"):
            doc = doc[key]
        node = doc
    return node


@pytest.fixture
async def doc(client) -> dict[str, Any]:
    resp = await client.get(openapi.OPENAPI_PATH)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    return await resp.json()


# --- the document and the router --------------------------------------------------------


async def test_every_route_is_documented_and_every_operation_is_served(client, doc) -> None:
    assert served(client.app) == documented(doc)
    assert {(op.method, op.path) for op in routes.OPERATIONS} <= documented(doc)


def test_a_route_missing_from_the_document_is_noticed(settings) -> None:
    app = app_mod.create_app(settings)

    async def extra(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get(f"{operation.PREFIX}/extra", extra)
    assert served(app) - documented(openapi.document(app)) == {("GET", f"{operation.PREFIX}/extra")}


def test_the_feed_is_documented_exactly_when_it_is_served(settings) -> None:
    app = app_mod.create_app(settings)
    if not openapi.serves_feed(app):
        assert openapi.WS_PATH not in openapi.document(app)["paths"]

        async def feed(request: web.Request) -> web.Response:
            return web.Response()

        app.router.add_get(openapi.WS_PATH, feed)
    ws = openapi.document(app)["paths"][openapi.WS_PATH]["get"]
    assert set(ws["responses"]) == {"101", "401", "426"}
    assert asyncapi.ASYNCAPI_PATH in ws["description"]


async def test_the_served_document_is_openapi_3_1_and_built_once(client, doc, settings) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc == openapi.document(app_mod.create_app(settings))
    assert (await (await client.get(openapi.OPENAPI_PATH)).read()) == client.app[openapi.DOCUMENT]
    for ref in refs(doc):
        assert resolve(doc, {"$ref": ref}), ref
    for name in doc["components"]["schemas"]:
        assert issubclass(getattr(models, name), models.BaseModel), name


async def test_operations_carry_their_parameters_and_bodies(doc) -> None:
    def names(path: str, method: str) -> set[str]:
        return {resolve(doc, p)["name"] for p in doc["paths"][path][method]["parameters"]}

    assert names(APPS, "get") == {"limit", "cursor", "name", "min_revision", "Config-Min-Revision"}
    assert names(APP, "get") == {"id", "If-None-Match", "Config-Min-Revision", "min_revision"}
    assert names(CONFIG, "put") == {"id", "If-Match", "X-Change-Reason", "dry_run"}
    limit = resolve(doc, {"$ref": "#/components/parameters/limit"})["schema"]
    assert limit == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    create = doc["paths"][APPS]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ApplicationIn"}
    assert set(create["responses"]["201"]["headers"]) == {"ETag", "Location", "Config-Revision"}
    problem = create["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "content" not in doc["paths"][APP]["get"]["responses"]["304"]
    schemas = doc["components"]["schemas"]
    empty_ok = schemas["ApplicationRollbackIn"]["properties"]["empty_ok"]
    assert (empty_ok["type"], empty_ok["default"]) == ("boolean", False)
    assert "first_revision" in empty_ok["description"]
    assert "first_revision" in schemas["Problem"]["properties"]


# --- responses of the real server against the document ------------------------------------


class Contract:
    """Checks real responses against the document, with the models it was generated from."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.seen: set[tuple[str, str, str]] = set()

    async def check(self, method: str, template: str, resp: Any) -> Any:
        operation = self.doc["paths"][template][method.lower()]
        status = str(resp.status)
        where = f"{method} {template} -> {status}"
        assert status in operation["responses"], f"{where} is not documented"
        documented = operation["responses"][status]
        raw = await resp.read()
        self.seen.add((method, template, status))
        for name, header in documented.get("headers", {}).items():
            header = resolve(self.doc, header)
            if header.get("required"):
                assert name in resp.headers, f"{where}: no {name} header"
            if name in resp.headers and "pattern" in header["schema"]:
                assert re.search(header["schema"]["pattern"], resp.headers[name]), where
        if "content" not in documented:
            assert raw == b"", f"{where}: a body where none is documented"
            return None
        [(media_type, media)] = documented["content"].items()
        assert resp.content_type == media_type, where
        schema = media["schema"]
        # anyOf: a write's usual body, or a dry run's answer; exactly one must fit.
        fits = [
            name for name in (s["$ref"].rpartition("/")[2] for s in schema.get("anyOf", [schema]))
            if _fits(getattr(models, name), raw)
        ]  # fmt: skip
        assert len(fits) == 1, f"{where}: fits {fits}"
        return json.loads(raw)


def _fits(model: type[models.BaseModel], raw: bytes) -> bool:
    try:
        model.model_validate_json(raw, strict=True)
    except pydantic.ValidationError:
        return False
    return True


@pytest.fixture
def call(client, doc):
    contract = Contract(doc)

    async def call(method: str, template: str, rid: str = "", **kwargs: Any) -> Any:
        resp = await client.request(method, template.replace("{id}", rid), **kwargs)
        return await contract.check(method, template, resp)

    call.contract = contract  # type: ignore[attr-defined]
    return call


async def test_a_walk_through_every_operation_and_error_matches_the_document(
    call, client, settings
) -> None:
    app = await call("POST", APPS, json={"name": "billing"})
    await call("POST", APPS, json={"name": "billing"})
    other = await call("POST", APPS, json={"name": "other"})
    await call("GET", APPS, params={"limit": "1"})
    await call("GET", APPS, params={"name": "billing"})
    await call("GET", APPS, params={"limit": "0"})
    await call("GET", APP, app["id"])
    await call("GET", APP, app["id"], headers={"If-None-Match": '"1"'})
    await call("GET", APP, NOBODY)
    await call("GET", APP, app["id"], params={"min_revision": "-1"})
    await call("PUT", APP, app["id"], json={"name": "billing", "comments": "c"})
    await call("PUT", APP, app["id"], json={"name": "x"}, headers={"If-Match": '"1"'})
    await call("PUT", APP, app["id"], json={"name": "other"})
    await call("PUT", APP, NOBODY, json={"name": "y"})

    body = {"application_id": app["id"], "name": "prod", "config": {"a": [1, {"b": None}]}}
    cfg = await call("POST", CONFIGS, json=body)
    await call("POST", CONFIGS, json=body)
    await call("POST", CONFIGS, json={**body, "name": "staging"})
    await call("POST", CONFIGS, json={**body, "application_id": NOBODY})
    await call("GET", APP_CONFIGS, app["id"], params={"limit": "1"})
    await call("GET", APP_CONFIGS, NOBODY)
    await call("GET", APP_CONFIGS, app["id"], params={"cursor": "zz"})
    await call("GET", CONFIG, cfg["id"])
    await call("GET", CONFIG, cfg["id"], headers={"If-None-Match": '"1"'})
    await call("GET", CONFIG, NOBODY)
    await call("GET", CONFIG, cfg["id"], headers={"Config-Min-Revision": "x"})
    await call("PUT", CONFIG, cfg["id"], json={"name": "prod", "config": {}})
    await call(
        "PUT", CONFIG, cfg["id"], json={"name": "p", "config": {}}, headers={"If-Match": '"1"'}
    )
    await call("PUT", CONFIG, cfg["id"], json={"name": "staging", "config": {}})
    await call("PUT", CONFIG, NOBODY, json={"name": "p", "config": {}})
    await call("GET", f"{APP}/clients", app["id"])
    await call("GET", f"{APP}/clients", NOBODY)
    await call("GET", f"{CONFIG}/clients/summary", cfg["id"])
    await call("GET", f"{CONFIG}/clients/summary", NOBODY)
    dry = {"dry_run": "true"}
    await call("POST", APPS, json={"name": "new"}, params=dry)
    await call("PUT", APP, app["id"], json={"name": "billing"}, params=dry)
    await call("DELETE", APP, app["id"], params=dry)
    await call("POST", CONFIGS, json={**body, "name": "new"}, params=dry)
    await call("PUT", CONFIG, cfg["id"], json={"name": "prod", "config": {}}, params=dry)
    await call("DELETE", CONFIG, cfg["id"], params=dry)

    # What can go wrong with any body, on every operation that takes one.
    too_big = b" " * (settings.max_body_bytes + 1)
    for op in (op for op in routes.OPERATIONS if op.request is not None):
        rid = other["id"] if op.path == APP else cfg["id"]
        await call(op.method, op.path, rid, data="{", headers={"Content-Type": "application/json"})
        await call(op.method, op.path, rid, json=[1])
        await call(op.method, op.path, rid, data="x", headers={"Content-Type": "text/plain"})
        await call(
            op.method, op.path, rid, data=too_big, headers={"Content-Type": "application/json"}
        )
        await call(op.method, op.path, rid, json={})

    too_long = {"X-Change-Reason": "r" * 1025}
    await call("DELETE", CONFIG, cfg["id"], headers=too_long)
    await call("DELETE", APP, app["id"], headers=too_long)
    # Tokens, and the refusals every operation documents.
    grant = [{"application_id": a["id"], "access": "read"} for a in (app, other)]
    reader = await call("POST", TOKENS, json={"name": "reader", "grants": grant})
    await call("POST", TOKENS, json={"name": "x", "grants": [{"application_id": "?"}]})
    await call("GET", TOKENS, params={"limit": "1"})
    await call("GET", TOKENS, params={"limit": "0"})
    await call("GET", f"{TOKENS}/self")
    await call("GET", TOKEN, reader["id"])
    await call("GET", TOKEN, NOBODY)
    await call("PUT", TOKEN, reader["id"], json={"name": "reader", "grants": grant})
    await call("PUT", TOKEN, NOBODY, json={"name": "r"})
    read_only = {"Authorization": f"Bearer {reader['token']}"}
    for op in routes.OPERATIONS:
        rid = other["id"] if op.path.startswith(APP) else reader["id"]
        rid = cfg["id"] if op.path == CONFIG else rid
        await call(op.method, op.path, rid, headers={"Authorization": "Bearer nope"})
        if op.needs not in {"read", "token"}:
            valid = {APPS: {"name": "zz"}, APP: {"name": "zz"}, CONFIGS: body,
                     CONFIG: {"name": "p", "config": {}}}.get(op.path, {"name": "t"})  # fmt: skip
            await call(op.method, op.path, rid, headers=read_only, json=valid)
    await call("GET", openapi.WS_PATH, headers={"Authorization": "Bearer nope"})
    await call("DELETE", TOKEN, reader["id"], headers={"X-Change-Reason": "r" * 1025})
    await call("DELETE", TOKEN, reader["id"])
    await call("DELETE", TOKEN, reader["id"])

    await call("DELETE", CONFIG, cfg["id"], headers={"If-Match": '"1"'})
    await call("DELETE", CONFIG, cfg["id"])
    await call("DELETE", CONFIG, cfg["id"])
    await call("DELETE", APP, app["id"], headers={"If-Match": '"1"'})
    await call("DELETE", APP, app["id"])
    await call("DELETE", APP, app["id"])
    if openapi.serves_feed(client.app):
        await call("GET", openapi.WS_PATH)

    assert every_status(call.contract.doc, "core") - call.contract.seen == set()


HISTORY_PATHS = {op.path for op in history.OPERATIONS}
SCHEMA_PATHS = {op.path for op in schema_api.OPERATIONS}
# Walked by sessions_test.py, with a browser's cookie.
CONSOLE_PATHS = {op.path for op in (*sessions.OPERATIONS, *search.OPERATIONS)}
# Walked by rollouts_test.py.
ROLLOUT_PATHS = {op.path for op in rollouts.OPERATIONS}


def _part(path: str) -> str:
    if path in CONSOLE_PATHS:
        return "console"
    if path in ROLLOUT_PATHS:
        return "rollouts"
    return "history" if path in HISTORY_PATHS else "schemas" if path in SCHEMA_PATHS else "core"


def every_status(doc: dict[str, Any], part: str) -> set[tuple[str, str, str]]:
    """Every documented (method, path, status) of one part: core, history, schemas or console."""
    return {
        (method.upper(), path, status)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        for status in operation["responses"]
        if status not in {"503", "101"}  # 503: the next test; 101: the feed's own tests
        and _part(path) == part
    }


async def test_a_walk_through_history_and_its_errors_matches_the_document(
    call, client, db, settings
) -> None:
    versions, diff = f"{CONFIG}/versions", f"{CONFIG}/diff"
    rollback, audit = f"{CONFIG}/rollback", f"{operation.PREFIX}/audit"

    async def version(rid: str, number: str) -> None:
        resp = await client.get(f"{CONFIGS}/{rid}/versions/{number}")
        await call.contract.check("GET", f"{versions}/{{version}}", resp)

    app = await call("POST", APPS, json={"name": "billing"})
    cfg = await call("POST", CONFIGS, json={"application_id": app["id"], "name": "p", "config": {}})
    other = await call(
        "POST", CONFIGS, json={"application_id": app["id"], "name": "q", "config": {}}
    )
    await call("PUT", CONFIG, cfg["id"], json={"name": "r", "config": {"a": 1}})
    for path, rid in ((versions, cfg["id"]), (f"{APP}/versions", app["id"])):
        await call("GET", path, rid)
        await call("GET", path, NOBODY)
        await call("GET", path, rid, params={"limit": "0"})
    await call("GET", diff, cfg["id"], params={"from": "1", "to": "2"})
    await call("GET", diff, NOBODY, params={"from": "1", "to": "2"})
    await call("GET", diff, cfg["id"], params={"from": "x", "to": "2"})
    await version(cfg["id"], "2")
    await version(cfg["id"], "9")
    await call("POST", rollback, cfg["id"], json={"to_version": 1}, headers={"If-Match": '"1"'})
    await call("POST", rollback, NOBODY, json={"to_version": 1})
    await call("POST", rollback, cfg["id"], json={"to_version": 1})
    await call("PUT", CONFIG, other["id"], json={"name": "r", "config": {}})
    await call("POST", rollback, cfg["id"], json={"to_version": 2})  # "r" is taken now: 409
    await call("POST", f"{APP}/rollback", app["id"], json={"to_revision": 1})
    await call("POST", f"{APP}/rollback", NOBODY, json={"to_revision": 1})
    before = await call("POST", f"{APP}/rollback", app["id"], json={"to_revision": 0})
    assert before["first_revision"] == app["revision"], "before it existed: refused"
    await call("GET", APP_CONFIGS, app["id"], params={"at_revision": "2"})
    await call("GET", audit, params={"outcome": "invalid"})
    await call("GET", audit, params={"outcome": "no"})
    await db.execute("DELETE FROM configuration_versions WHERE version = 1")  # as pruning does
    await version(cfg["id"], "1")
    await call("GET", diff, cfg["id"], params={"from": "1", "to": "2"})
    await call("POST", rollback, cfg["id"], json={"to_version": 1})
    await call("POST", f"{APP}/rollback", app["id"], json={"to_revision": 10**6})
    await call("POST", rollback, cfg["id"], json={"to_version": 0})
    too_big = b" " * (settings.max_body_bytes + 1)
    for op in (op for op in history.OPERATIONS if op.request is not None):
        rid = app["id"] if op.path.startswith(APP) else cfg["id"]
        await call(op.method, op.path, rid, data="{", headers={"Content-Type": "application/json"})
        await call(op.method, op.path, rid, data="x", headers={"Content-Type": "text/plain"})
        await call(
            op.method, op.path, rid, data=too_big, headers={"Content-Type": "application/json"}
        )
    dry = {"dry_run": "true"}
    await call("POST", rollback, cfg["id"], json={"to_version": 2}, params=dry)
    await call("POST", f"{APP}/rollback", app["id"], json={"to_revision": 3}, params=dry)
    await _refusals(call, client, app, cfg)
    assert every_status(call.contract.doc, "history") - call.contract.seen == set()


async def _refusals(call, client, app: dict[str, Any], cfg: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """Each history operation without a usable token (401), and with too little access (403)."""
    grants = [{"application_id": app["id"], "access": "read"}]
    reader = await call("POST", f"{operation.PREFIX}/tokens", json={"name": "r", "grants": grants})
    bodies = {f"{CONFIG}/rollback": {"to_version": 1}, f"{APP}/rollback": {"to_revision": 1}}
    for secret in ("nope", reader["token"]):
        for op in history.OPERATIONS:
            if secret != "nope" and op.needs == "read":
                continue  # a reader may read: no refusal to see
            rid = app["id"] if op.path.startswith(APP) else cfg["id"]
            path = op.path.replace("{id}", rid).replace("{version}", "2")
            resp = await client.request(op.method, path, json=bodies.get(op.path),
                                        headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
            await call.contract.check(op.method, op.path, resp)


async def test_a_walk_through_schemas_and_their_errors_matches_the_document(
    call, client, settings
) -> None:
    one, many = f"{APP}/schemas/{{name}}", f"{APP}/schemas"

    async def named(method: str, template: str, rid: str, name: str, **kwargs: Any) -> Any:
        resp = await client.request(method, f"{APPS}/{rid}/schemas/{name}{template}", **kwargs)
        return await call.contract.check(method, f"{one}{template}", resp)

    app = await call("POST", APPS, json={"name": "billing"})
    body = {"application_id": app["id"], "name": "p", "config": {"a": 5}}
    await call("POST", CONFIGS, json=body)
    small = {"properties": {"a": {"maximum": 1}}}
    await named("PUT", "", app["id"], "p", json={"type": "object"})
    await named("PUT", "", app["id"], "p", json={"type": "object"}, headers={"If-Match": '"1"'})
    await named("PUT", "", app["id"], "p", json={"type": "object"}, headers={"If-Match": '"7"'})
    await named("PUT", "", app["id"], "p", json={"type": "object"}, params={"dry_run": "true"})
    await named("PUT", "", app["id"], "p", json={"type": 1})
    await named("PUT", "", app["id"], "p", json=small)
    await named("PUT", "", NOBODY, "p", json=small)
    await named("PUT", "", app["id"], "p", data="{", headers={"Content-Type": "application/json"})
    await named("PUT", "", app["id"], "p", data="x", headers={"Content-Type": "text/plain"})
    too_big = b" " * (settings.max_body_bytes + 1)
    await named("PUT", "", app["id"], "p", data=too_big,
                headers={"Content-Type": "application/json"})  # fmt: skip
    await named("GET", "", app["id"], "p")
    await named("GET", "", app["id"], "q")
    await named("GET", "/versions", app["id"], "p")
    await named("GET", "/versions", NOBODY, "p")
    await named("GET", "/versions", app["id"], "p", params={"limit": "0"})
    await call("GET", many, app["id"])
    await call("GET", many, NOBODY)
    await call("GET", many, app["id"], params={"cursor": "x"})
    await named("PUT", "", app["id"], "*", json=small)
    await named("DELETE", "", app["id"], "p")
    await named("DELETE", "", app["id"], "p", params={"force": "true"})
    await named("DELETE", "", app["id"], "p", params={"force": "true"})
    await named("DELETE", "", app["id"], "*", headers={"If-Match": '"9"'})
    await named("DELETE", "", app["id"], "*", params={"dry_run": "true"})
    await named("DELETE", "", app["id"], "*", params={"dry_run": "yes"})
    grants = [{"application_id": app["id"], "access": "read"}]
    reader = await call("POST", f"{operation.PREFIX}/tokens", json={"name": "r", "grants": grants})
    for secret in ("nope", reader["token"]):
        auth = {"Authorization": f"Bearer {secret}"}
        for method, template in (("PUT", ""), ("DELETE", ""), ("GET", ""), ("GET", "/versions")):
            await named(method, template, app["id"], "*", json={}, headers=auth)
        await call("GET", many, app["id"], headers=auth)
    assert every_status(call.contract.doc, "schemas") - call.contract.seen == set()


def test_every_operation_declares_the_bearer_scheme_and_its_refusals(settings) -> None:
    doc = openapi.document(app_mod.create_app(settings))
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for op in routes.OPERATIONS:
        operation = doc["paths"][op.path][op.method.lower()]
        assert operation["security"] == [{"bearer": []}]
        assert "401" in operation["responses"], op.path
        assert ("403" in operation["responses"]) == (op.needs not in {"read", "token"}), op.path


async def test_a_database_outage_is_the_documented_503(call, database_outage) -> None:
    async with database_outage():
        await call("GET", APPS)
        assert ("GET", APPS, "503") in call.contract.seen


# --- the API page ------------------------------------------------------------------------

# A resource the browser would load: src/href/action attributes, CSS url() and @import, fetch().
RESOURCE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?|"""
    r"""fetch\(\s*["'`]?)\s*(?:[a-z][a-z0-9+.-]*:|//)""",
    re.IGNORECASE,
)


async def test_the_api_page_is_html_loading_nothing_from_elsewhere(client) -> None:
    resp = await client.get(openapi.DOCS_PATH)
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert '<script src="docs.js"' in page
    assert '<link rel="stylesheet" href="docs.css">' in page
    script = await client.get(f"{operation.PREFIX}/docs.js")
    style = await client.get(f"{operation.PREFIX}/docs.css")
    assert (script.content_type, style.content_type) == ("text/javascript", "text/css")
    code = await script.text()
    assert '"openapi.json"' in code
    assert '"asyncapi.json"' in code
    for text in (page, code, await style.text()):
        assert RESOURCE.search(text) is None
        assert "http://" not in text
        assert "https://" not in text


async def test_html_pages_forbid_inline_code_framing_and_sniffing(client) -> None:
    resp = await client.get(openapi.DOCS_PATH)
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    page = await resp.text()
    # Under that policy an inline script, style element or style attribute would not run.
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
    assert "<style" not in page
    assert " style=" not in page
    json_resp = await client.get(openapi.OPENAPI_PATH)
    assert json_resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in json_resp.headers


async def test_unknown_page_assets_are_404(client) -> None:
    resp = await client.get(f"{operation.PREFIX}/docs.exe")
    assert resp.status == 404


def test_the_resource_pattern_catches_external_loads() -> None:
    external = [
        '<script src="https://cdn.example/x.js">',
        "<link href=//cdn.example/a.css>",
        "background: url('http://x/y.png')",
        'fetch("https://x/openapi.json")',
    ]
    for tag in external:
        assert RESOURCE.search(tag), tag
    assert RESOURCE.search('<a href="#op-x">') is None


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine")
async def test_the_api_page_renders_in_a_browser_under_its_csp(client) -> None:
    """The real page in headless Chromium: no CSP violation, and everything rendered."""
    assert CHROMIUM is not None
    url = str(client.make_url(openapi.DOCS_PATH))
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
        "--v=0", "--virtual-time-budget=10000", "--dump-dom", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(120):
        dom, log = await proc.communicate()
    page, console = dom.decode(), log.decode()
    assert "Content Security Policy" not in console
    assert "Could not load" not in page
    assert '<h1 id="title">configsvc API<span class="muted">version 1</span></h1>' in page
    for kind in ("Subscribe", "Unsubscribe", "Snapshot", "Change", "Synced", "FeedError"):
        assert f'id="message-{kind}"' in page
    for code in ("bad_request", "not_found", "unavailable", "4008", "1012"):
        assert f"<code>{code}</code>" in page
    # Descriptions of responses and parameters render their `code` spans as code.
    assert "<code>Retry-After</code> seconds" in page
    assert "`" not in re.sub(r"<pre>.*?</pre>", "", page, flags=re.DOTALL)
