"""Configurations through the API: created, read, replaced, deleted, listed, refused."""

from __future__ import annotations

import asyncio

import pytest
from configsvc_contract import models

from configsvc.api.conftest import fields, problem


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


async def test_concurrent_puts_with_the_same_if_match_exactly_one_wins(client, make_config) -> None:
    cfg = await make_config()
    url = f"/api/v1/configurations/{cfg['id']}"

    async def put(i: int) -> int:
        body = {"name": "n", "config": {"writer": i}}
        return (await client.put(url, json=body, headers={"If-Match": '"1"'})).status

    statuses = await asyncio.gather(*(put(i) for i in range(10)))
    assert sorted(statuses) == [200] + [412] * 9
    assert (await (await client.get(url)).json())["version"] == 2


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


async def test_a_bad_minimum_revision_is_refused_with_at_revision_too(client, make_app) -> None:
    app = await make_app()
    path = f"/api/v1/applications/{app['id']}/configurations"
    resp = await client.get(path, params={"at_revision": "0"}, headers={"Config-Min-Revision": ""})
    assert fields(await problem(resp, 422)) == {"Config-Min-Revision"}
