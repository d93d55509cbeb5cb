"""One JSON style for every body: compact and exact, through the real server."""

from __future__ import annotations

import ast
import decimal
import re

from configsvc_contract import exactjson

from configsvc import settings as settings_mod
from configsvc.api import jsonbody
from configsvc.api.conftest import API, make

SPACED = (", ", ": ")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def separators(body: str) -> str:
    """The JSON text without the contents of its strings: its structure and its numbers."""
    return STRING.sub('""', body)


# Modules whose answers another change owns; each still answers through aiohttp's spaced
# json_response and should call jsonbody.response instead.
NOT_YET = {"api/tokens.py", "ops/health.py"}


def test_a_body_is_compact_with_its_numbers_exact() -> None:
    body = {"a": [1, decimal.Decimal("0.10"), 10**30], "b": {"c": "é"}}
    assert jsonbody.encode(body) == '{"a":[1,0.10,1000000000000000000000000000000],"b":{"c":"é"}}'


async def text(client, method: str, path: str, status: int = 200, **kwargs) -> str:  # type: ignore[no-untyped-def]
    resp = await client.request(method, f"{API}{path}", **kwargs)
    body = await resp.text()
    assert resp.status == status, body
    assert resp.charset == "utf-8"
    return body


async def test_diff_at_revision_rollback_dry_run_and_problems_are_compact(client) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    new = {"application_id": app["id"], "name": "prod", "config": {"a": 1, "b": [1, 2]}}
    cfg = await make(client, "POST", "/configurations", json=new)
    c, a = f"/configurations/{cfg['id']}", f"/applications/{app['id']}"
    await make(client, "PUT", c, json={"name": "prod", "config": {"a": 2, "b": [1, 2, 3]}})
    bodies = {
        "diff": await text(client, "GET", f"{c}/diff", params={"from": "1", "to": "2"}),
        "at_revision": await text(client, "GET", f"{a}/configurations",
                                  params={"at_revision": str(cfg["revision"])}),
        "dry run": await text(client, "POST", f"{c}/rollback", params={"dry_run": "true"},
                              json={"to_version": 1}),
        "rollback": await text(client, "POST", f"{c}/rollback", json={"to_version": 1}),
        "application rollback": await text(client, "POST", f"{a}/rollback",
                                           json={"to_revision": cfg["revision"]}),
        "versions": await text(client, "GET", f"{c}/versions"),
        "audit": await text(client, "GET", "/audit", params={"limit": "2"}),
        "404": await text(client, "GET", f"/applications/{'0' * 26}", 404),
        "422": await text(client, "GET", "/applications", 422, params={"limit": "0"}),
        "405": await text(client, "PATCH", "/applications", 405),
        "409": await text(client, "POST", "/applications", 409, json={"name": "billing"}),
    }  # fmt: skip
    spaced = {name: body for name, body in bodies.items()
              if any(s in separators(body) for s in SPACED)}  # fmt: skip
    assert spaced == {}
    assert {name: exactjson.dumps(exactjson.loads(body)) == body
            for name, body in bodies.items()} == dict.fromkeys(bodies, True)  # fmt: skip


def test_no_handler_answers_json_but_through_the_one_encoder() -> None:
    root = settings_mod.SVC_DIR / "configsvc"
    found = set()
    for path in root.rglob("*.py"):
        if path.name.endswith("_test.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "json_response":
                found.add(str(path.relative_to(root)))
    assert found == NOT_YET
