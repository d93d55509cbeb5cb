"""Applications through the API: created, read, replaced, deleted, listed, refused."""

from __future__ import annotations

import asyncio
import re

import pytest
from configsvc_contract import models

from configsvc.api.conftest import fields, problem

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


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


async def test_if_match_on_application(client, make_app) -> None:
    app = await make_app()
    url = f"/api/v1/applications/{app['id']}"
    await problem(await client.put(url, json={"name": "z"}, headers={"If-Match": '"5"'}), 412)
    await problem(await client.delete(url, headers={"If-Match": '"5"'}), 412)
    assert (await client.put(url, json={"name": "z"}, headers={"If-Match": "*"})).status == 200
    assert (await client.delete(url, headers={"If-Match": '"2"'})).status == 204


async def test_concurrent_creates_of_one_name_give_one_201_and_409s(client) -> None:
    async def post() -> int:
        return (await client.post("/api/v1/applications", json={"name": "race"})).status

    statuses = await asyncio.gather(*(post() for _ in range(8)))
    assert sorted(statuses) == [201] + [409] * 7


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
