"""The REST API as a client sees it: real server, real database; what every resource shares
(conditional reads, taken names, bodies refused before any handler, the router's 404 and 405)."""

from __future__ import annotations

import pytest

from configsvc.api import routes
from configsvc.api.conftest import problem

# --- conditional requests -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["applications", "configurations"])
async def test_if_none_match_gives_304(client, make_config, kind) -> None:
    cfg = await make_config()
    rid = cfg["id"] if kind == "configurations" else cfg["application_id"]
    resp = await client.get(f"/api/v1/{kind}/{rid}", headers={"If-None-Match": '"1"'})
    assert resp.status == 304
    assert resp.headers["ETag"] == '"1"'
    resp = await client.get(f"/api/v1/{kind}/{rid}", headers={"If-None-Match": '"7"'})
    assert resp.status == 200


# --- errors ------------------------------------------------------------------------------


async def test_duplicate_names_are_409_naming_the_name(client, make_app, make_config) -> None:
    await make_app("taken")
    body = await problem(await client.post("/api/v1/applications", json={"name": "taken"}), 409)
    assert "taken" in body["detail"]
    cfg = await make_config(name="one")
    resp = await client.post(
        "/api/v1/configurations",
        json={"application_id": cfg["application_id"], "name": "one", "config": {}},
    )
    assert "one" in (await problem(resp, 409))["detail"]
    other = await make_app()
    resp = await client.put(f"/api/v1/applications/{other['id']}", json={"name": "taken"})
    await problem(resp, 409)
    second = await make_config(cfg["application_id"], name="two")
    resp = await client.put(
        f"/api/v1/configurations/{second['id']}", json={"name": "one", "config": {}}
    )
    await problem(resp, 409)


@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b'{"name": NaN}',
     b'{"name": "\\ud800"}', b"[" * 100000],
)  # fmt: skip
async def test_bodies_that_are_not_a_json_object_are_400(client, raw) -> None:
    resp = await client.post(
        "/api/v1/applications", data=raw, headers={"Content-Type": "application/json"}
    )
    await problem(resp, 400)


async def test_wrong_content_type_is_415(client) -> None:
    resp = await client.post("/api/v1/applications", data=b'{"name": "x"}',
                             headers={"Content-Type": "text/plain"})  # fmt: skip
    await problem(resp, 415)


async def test_body_over_the_limit_is_413(client) -> None:
    big = {"name": "x", "comments": "c" * (2 * 1024 * 1024)}
    await problem(await client.post("/api/v1/applications", json=big), 413)


async def test_wrong_method_is_405_with_allow(client) -> None:
    resp = await client.patch("/api/v1/applications", json={})
    await problem(resp, 405)
    assert "POST" in resp.headers["Allow"]


async def test_a_method_a_literal_path_lacks_is_405_not_its_id_siblings_404(client) -> None:
    """`/tokens/self` is not `/tokens/{id}` with id "self": PUT and DELETE are not served there."""
    paths = {op.path for op in routes.OPERATIONS}
    literal = {(op.path, op.method) for op in routes.OPERATIONS}
    shadowed = [p for p in paths if routes.route_path(p, paths) != p]
    assert shadowed == ["/api/v1/tokens/{id}"]
    allowed = {m for p, m in literal if p == "/api/v1/tokens/self"}
    for method in {m for p, m in literal if p == shadowed[0]} - allowed:
        resp = await client.request(method, "/api/v1/tokens/self", json={"name": "x"})
        await problem(resp, 405)
        assert set(resp.headers["Allow"].split(",")) == allowed, method
    own = await (await client.get("/api/v1/tokens/self")).json()
    assert (own["name"], own["expires_at"]) == ("bootstrap", None), "unchanged"
    assert (await client.get(f"/api/v1/tokens/{own['id']}")).status == 200


async def test_unknown_path_is_a_problem_404(client) -> None:
    await problem(await client.get("/api/v1/nothing-here"), 404)
