"""The document's shared parameters: each one an operation names is defined and used, and each
bound it gives is the server's own (one past it is a 422 naming the parameter)."""

from __future__ import annotations

import re
from typing import Any

from configsvc.api import history, operation, parameters, routes, search
from configsvc.api.openapi_test import APPS, TOKENS, doc, resolve  # noqa: F401 (a fixture)


def test_every_parameter_an_operation_names_is_defined_once_and_used() -> None:
    defined = parameters.parameters()
    named = {name for op in routes.OPERATIONS for name in (*op.query, *op.headers)}
    assert named <= defined.keys()
    unused = defined.keys() - named - {"id", "X-Change-Reason"}
    assert unused == set(), "described but never named by an operation"
    for name, param in defined.items():
        assert param["in"] in {"path", "query", "header"}, name
        assert param["required"] == (param["in"] == "path") or name in {"q", "from", "to"}, name
        assert param["description"], name


def _query(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    params = [resolve(document, p) for p in document["paths"][path]["get"]["parameters"]]
    schema: dict[str, Any] = next(p["schema"] for p in params if p["name"] == name)
    return schema


async def test_each_query_bound_in_the_document_is_the_servers(client, doc) -> None:  # noqa: F811
    """Where the document says a value is valid, the server takes it; one past the bound it
    refuses it (422 naming it): page sizes, revisions, cursors, names, the audit's actions."""
    search_path, audit_path = f"{operation.PREFIX}/search", f"{operation.PREFIX}/audit"
    cases = [
        (search_path, "limit", {"q": "x"}, str(_query(doc, search_path, "limit")["maximum"]),
         str(search.LIMIT_MAX + 1)),
        (APPS, "limit", {}, str(_query(doc, APPS, "limit")["maximum"]), "501"),
        (APPS, "min_revision", {}, str(_query(doc, APPS, "min_revision")["maximum"]), str(2**63)),
        (APPS, "name", {}, "billing", "bill\x1b[31m"),
        (audit_path, "action", {}, _query(doc, audit_path, "action")["enum"][0], "token.lost"),
    ]  # fmt: skip
    for path, name, more, good, bad in cases:
        resp = await client.get(path, params={**more, name: good})
        assert resp.status == 200, (path, name, good)
        resp = await client.get(path, params={**more, name: bad})
        assert resp.status == 422, (path, name, bad)
        assert [e["field"] for e in (await resp.json())["errors"]] == [name]
        schema = _query(doc, path, name)
        if "pattern" in schema:
            assert re.search(schema["pattern"], good)
            assert not re.search(schema["pattern"], bad)
    assert _query(doc, audit_path, "action")["enum"] == sorted(history.ACTIONS)
    for path in (APPS, TOKENS, search_path, audit_path):
        assert _query(doc, path, "cursor")["minLength"] == 1
        params = {"q": "x"} if path == search_path else {}
        resp = await client.get(path, params={**params, "cursor": ""})
        assert resp.status == 422, path
