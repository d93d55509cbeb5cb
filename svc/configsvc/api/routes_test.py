"""The REST API as a client sees it: real server, real database, every endpoint and error."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

import pytest
from configsvc_contract import models

from configsvc.api import routes

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_names = itertools.count()


@pytest.fixture
def make_app(client):
    async def make(name: str | None = None, comments: str = "") -> dict[str, Any]:
        name = name or f"app-{next(_names)}"
        resp = await client.post("/api/v1/applications", json={"name": name, "comments": comments})
        assert resp.status == 201, await resp.text()
        return await resp.json()

    return make


@pytest.fixture
def make_config(client, make_app):
    async def make(app_id: str | None = None, name: str | None = None, config=None):
        app_id = app_id or (await make_app())["id"]
        body = {"application_id": app_id, "name": name or f"cfg-{next(_names)}",
                "config": config if config is not None else {"x": 1}}  # fmt: skip
        resp = await client.post("/api/v1/configurations", json=body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    return make


async def problem(resp, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    models.Problem.model_validate(body)
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


# --- applications: the happy path ---------------------------------------------------------


async def test_create_application_returns_it_with_location_and_etag(client) -> None:
    resp = await client.post("/api/v1/applications", json={"name": "billing", "comments": "c"})
    assert resp.status == 201
    app = await resp.json()
    models.Application.model_validate(app)
    assert ULID.match(app["id"])
    assert (app["name"], app["comments"], app["version"]) == ("billing", "c", 1)
    assert app["revision"] >= 1
    assert RFC3339_UTC.match(app["created_at"])
    assert RFC3339_UTC.match(app["updated_at"])
    assert resp.headers["Location"] == f"/api/v1/applications/{app['id']}"
    assert resp.headers["ETag"] == '"1"'


async def test_comments_default_to_empty(client) -> None:
    resp = await client.post("/api/v1/applications", json={"name": "x"})
    assert (await resp.json())["comments"] == ""


async def test_read_application_lists_its_configuration_ids_in_id_order(
    client, make_app, make_config
) -> None:
    app = await make_app()
    ids = [(await make_config(app["id"]))["id"] for _ in range(3)]
    resp = await client.get(f"/api/v1/applications/{app['id']}")
    assert resp.status == 200
    body = await resp.json()
    models.ApplicationDetail.model_validate(body)
    assert body["configuration_ids"] == sorted(ids)
    assert resp.headers["ETag"] == '"1"'


async def test_replace_application_bumps_version_and_revision(client, make_app) -> None:
    app = await make_app()
    resp = await client.put(f"/api/v1/applications/{app['id']}", json={"name": "renamed"})
    assert resp.status == 200
    new = await resp.json()
    assert (new["name"], new["comments"], new["version"]) == ("renamed", "", 2)
    assert new["revision"] > app["revision"]
    assert new["created_at"] == app["created_at"]
    assert resp.headers["ETag"] == '"2"'


async def test_delete_application_takes_its_configurations(client, make_config) -> None:
    config = await make_config()
    resp = await client.delete(f"/api/v1/applications/{config['application_id']}")
    assert resp.status == 204
    await problem(await client.get(f"/api/v1/applications/{config['application_id']}"), 404)
    await problem(await client.get(f"/api/v1/configurations/{config['id']}"), 404)


async def test_list_applications_filters_by_exact_name(client, make_app) -> None:
    await make_app("alpha")
    await make_app("alphabet")
    resp = await client.get("/api/v1/applications", params={"name": "alpha"})
    body = await resp.json()
    models.ApplicationPage.model_validate(body)
    assert [a["name"] for a in body["items"]] == ["alpha"]
    assert body["next_cursor"] is None


async def test_list_walk_visits_every_item_once_while_items_are_added(client, make_app) -> None:
    before = {(await make_app())["id"] for _ in range(7)}
    seen: list[str] = []
    added: set[str] = set()
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get("/api/v1/applications", params=params)).json()
        seen += [a["id"] for a in body["items"]]
        added.add((await make_app())["id"])  # new items arrive during the walk
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "an item was visited twice"
    assert before <= set(seen), "an item that existed throughout was missed"
    assert set(seen) <= before | added


async def test_list_default_limit_is_50(client, make_app) -> None:
    await asyncio.gather(*(make_app() for _ in range(51)))
    body = await (await client.get("/api/v1/applications")).json()
    assert len(body["items"]) == 50
    assert body["next_cursor"] is not None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=x", "limit=-1", "limit=%D9%A1", "cursor=zz", "cursor=%00",
     "name=%00", f"name={'n' * 257}"],
)  # fmt: skip
async def test_bad_list_parameters_are_422_naming_them(client, query) -> None:
    body = await problem(await client.get(f"/api/v1/applications?{query}"), 422)
    assert fields(body) == {query.split("=")[0]}


# --- configurations: the happy path -------------------------------------------------------


async def test_create_and_read_configuration(client, make_app) -> None:
    app = await make_app()
    config = {"timeout": 3.5, "hosts": ["a", "b"], "nested": {"on": True, "none": None}}
    resp = await client.post(
        "/api/v1/configurations",
        json={"application_id": app["id"], "name": "db", "comments": "pg", "config": config},
    )
    assert resp.status == 201
    created = await resp.json()
    models.Configuration.model_validate(created)
    assert resp.headers["Location"] == f"/api/v1/configurations/{created['id']}"
    assert resp.headers["ETag"] == '"1"'
    resp = await client.get(f"/api/v1/configurations/{created['id']}")
    assert resp.status == 200
    assert await resp.json() == created
    assert created["config"] == config
    assert created["application_id"] == app["id"]


async def test_replace_configuration(client, make_config) -> None:
    cfg = await make_config()
    resp = await client.put(
        f"/api/v1/configurations/{cfg['id']}",
        json={"name": "new", "config": {"y": [1]}, "application_id": cfg["application_id"]},
    )
    assert resp.status == 200
    new = await resp.json()
    assert (new["name"], new["config"], new["comments"], new["version"]) == (
        "new", {"y": [1]}, "", 2)  # fmt: skip


async def test_replace_configuration_cannot_move_it_to_another_application(
    client, make_app, make_config
) -> None:
    cfg, other = await make_config(), await make_app()
    resp = await client.put(
        f"/api/v1/configurations/{cfg['id']}",
        json={"name": "n", "config": {}, "application_id": other["id"]},
    )
    assert fields(await problem(resp, 422)) == {"application_id"}
    assert await (await client.get(f"/api/v1/configurations/{cfg['id']}")).json() == cfg


async def test_delete_configuration(client, make_config) -> None:
    cfg = await make_config()
    assert (await client.delete(f"/api/v1/configurations/{cfg['id']}")).status == 204
    await problem(await client.get(f"/api/v1/configurations/{cfg['id']}"), 404)
    await problem(await client.delete(f"/api/v1/configurations/{cfg['id']}"), 404)


async def test_list_configurations_pages_in_id_order(client, make_app, make_config) -> None:
    app = await make_app()
    ids = sorted([(await make_config(app["id"]))["id"] for _ in range(5)])
    await make_config()  # another application's: not listed
    walked, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        resp = await client.get(f"/api/v1/applications/{app['id']}/configurations", params=params)
        body = await resp.json()
        models.ConfigurationPage.model_validate(body)
        walked += [c["id"] for c in body["items"]]
        if (cursor := body["next_cursor"]) is None:
            break
    assert walked == ids


async def test_list_configurations_of_unknown_application_is_404(client) -> None:
    await problem(await client.get(f"/api/v1/applications/{'0' * 26}/configurations"), 404)


async def test_same_configuration_name_in_two_applications_is_fine(client, make_config) -> None:
    await make_config(name="shared")
    await make_config(name="shared")


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


async def test_if_match_on_put_and_delete(client, make_config) -> None:
    cfg = await make_config()
    url = f"/api/v1/configurations/{cfg['id']}"
    body = {"name": "n", "config": {}}
    await problem(await client.put(url, json=body, headers={"If-Match": '"2"'}), 412)
    await problem(await client.put(url, json=body, headers={"If-Match": "garbage"}), 412)
    await problem(await client.put(url, json=body, headers={"If-Match": '"99999999999"'}), 412)
    assert (await client.put(url, json=body, headers={"If-Match": '"1"'})).status == 200
    await problem(await client.delete(url, headers={"If-Match": '"1"'}), 412)
    assert (await client.delete(url, headers={"If-Match": '"2"'})).status == 204


async def test_if_match_on_application(client, make_app) -> None:
    app = await make_app()
    url = f"/api/v1/applications/{app['id']}"
    await problem(await client.put(url, json={"name": "z"}, headers={"If-Match": '"5"'}), 412)
    await problem(await client.delete(url, headers={"If-Match": '"5"'}), 412)
    assert (await client.put(url, json={"name": "z"}, headers={"If-Match": "*"})).status == 200
    assert (await client.delete(url, headers={"If-Match": '"2"'})).status == 204


async def test_concurrent_puts_with_the_same_if_match_exactly_one_wins(client, make_config) -> None:
    cfg = await make_config()
    url = f"/api/v1/configurations/{cfg['id']}"

    async def put(i: int) -> int:
        body = {"name": "n", "config": {"writer": i}}
        return (await client.put(url, json=body, headers={"If-Match": '"1"'})).status

    statuses = await asyncio.gather(*(put(i) for i in range(10)))
    assert sorted(statuses) == [200] + [412] * 9
    assert (await (await client.get(url)).json())["version"] == 2


async def test_concurrent_creates_of_one_name_give_one_201_and_409s(client) -> None:
    async def post() -> int:
        return (await client.post("/api/v1/applications", json={"name": "race"})).status

    statuses = await asyncio.gather(*(post() for _ in range(8)))
    assert sorted(statuses) == [201] + [409] * 7


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
    ("body", "bad"),
    [
        ({}, {"name"}),
        ({"name": ""}, {"name"}),
        ({"name": "   "}, {"name"}),
        ({"name": 5}, {"name"}),
        ({"name": "x" * 257}, {"name"}),
        ({"name": "ok", "comments": "c" * 1025}, {"comments"}),
        ({"name": "ok", "comments": None}, {"comments"}),
        ({"name": "ok", "colour": "red"}, {"colour"}),
        ({"name": "a\u0000b"}, {"name"}),
        ({"name": 1, "comments": 2}, {"name", "comments"}),
    ],
)
async def test_bad_application_fields_are_422_naming_each_field(client, body, bad) -> None:
    resp = await client.post("/api/v1/applications", json=body)
    assert fields(await problem(resp, 422)) == bad
    listing = await (await client.get("/api/v1/applications")).json()
    assert listing["items"] == []


async def test_name_of_exactly_256_and_comments_of_1024_are_fine(client) -> None:
    body = {"name": "n" * 256, "comments": "é" * 1024}
    assert (await client.post("/api/v1/applications", json=body)).status == 201


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"name": "c", "config": {}}, {"application_id"}),
        ({"application_id": "nope", "name": "c", "config": {}}, {"application_id"}),
        ({"application_id": "0" * 26, "name": "c", "config": {}}, {"application_id"}),
        ({"application_id": "{app}", "name": "c"}, {"config"}),
        ({"application_id": "{app}", "name": "c", "config": [1]}, {"config"}),
        ({"application_id": "{app}", "name": "c", "config": "s"}, {"config"}),
        ({"application_id": "{app}", "name": "c", "config": {"k": "a\u0000"}}, {"config.k"}),
    ],
)
async def test_bad_configuration_fields_are_422(client, make_app, body, bad) -> None:
    app = await make_app()
    body = {k: (app["id"] if v == "{app}" else v) for k, v in body.items()}
    resp = await client.post("/api/v1/configurations", json=body)
    assert fields(await problem(resp, 422)) == bad
    resp = await client.get(f"/api/v1/applications/{app['id']}/configurations")
    assert (await resp.json())["items"] == []


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


@pytest.mark.parametrize("rid", ["0" * 26, "not-an-id", "01JDQ2Z8B6M4R1V3XK7N9P0TQU"])
@pytest.mark.parametrize("kind", ["applications", "configurations"])
async def test_unknown_or_malformed_ids_are_404(client, kind, rid) -> None:
    await problem(await client.get(f"/api/v1/{kind}/{rid}"), 404)
    await problem(await client.delete(f"/api/v1/{kind}/{rid}"), 404)
    body = {"name": "n", **({"config": {}} if kind == "configurations" else {})}
    await problem(await client.put(f"/api/v1/{kind}/{rid}", json=body), 404)


async def test_unknown_path_is_a_problem_404(client) -> None:
    await problem(await client.get("/api/v1/nothing-here"), 404)
