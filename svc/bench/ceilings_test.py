"""The ceiling servers, in process: what each serves, and the arguments they refuse."""

from __future__ import annotations

import asyncio
import json

import pytest

from bench import ceilings
from configsvc.service import application_writes, configuration_writes, writing


async def test_hello_answers_a_constant_json(aiohttp_client) -> None:
    client = await aiohttp_client(ceilings.create_app("hello"))
    for path in ("/hello", "/healthz"):
        resp = await client.get(path)
        assert (resp.status, await resp.json()) == (200, ceilings.HELLO)


async def test_fetchrow_returns_a_configuration_row(aiohttp_client, pooled, database_url) -> None:
    app = await application_writes.create_application(pooled, writing.Write(), "bench", "")
    fields = {"name": "c", "comments": "", "config": {"depth": 1}}
    made = await configuration_writes.create_configuration(
        pooled, writing.Write(), app["id"], fields
    )
    client = await aiohttp_client(ceilings.create_app("fetchrow", database_url))
    row = await (await client.get(f"/configurations/{made['id']}")).json()
    assert (row["id"], row["application_id"], row["config"]) == (
        made["id"],
        app["id"],
        {"depth": 1},
    )
    assert (await client.get("/configurations/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status == 404


async def test_update_writes_one_row_and_commits_it(
    aiohttp_client, pooled, database_url, db
) -> None:
    app = await application_writes.create_application(pooled, writing.Write(), "bench", "")
    fields = {"name": "c", "comments": "", "config": {"depth": 1}}
    made = await configuration_writes.create_configuration(
        pooled, writing.Write(), app["id"], fields
    )
    client = await aiohttp_client(ceilings.create_app("update", database_url))
    body = {"name": "c", "comments": "bench", "config": {"depth": 2}}
    resp = await client.put(f"/configurations/{made['id']}", json=body)
    assert await resp.json() == {"version": 2}
    row = await db.fetchrow("SELECT config, version FROM configurations WHERE id = $1", made["id"])
    assert (json.loads(row["config"]), row["version"]) == ({"depth": 2}, 2), "committed"
    missing = await client.put("/configurations/01ARZ3NDEKTSV4RRFFQ69G5FAV", json=body)
    assert missing.status == 404


async def test_broadcast_sends_each_published_body_to_every_socket(aiohttp_client) -> None:
    client = await aiohttp_client(ceilings.create_app("broadcast"))
    sockets = [await client.ws_connect("/ws") for _ in range(3)]
    await asyncio.sleep(0.1)  # the server registers each socket after its handshake
    resp = await client.post("/publish", data="rev 7")
    assert await resp.json() == {"sent": 3}
    async with asyncio.timeout(10):
        assert [await ws.receive_str() for ws in sockets] == ["rev 7"] * 3
    for ws in sockets:
        await ws.close()


def test_an_unknown_kind_or_a_fetchrow_without_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ceiling 'echo'"):
        ceilings.create_app("echo")
    with pytest.raises(ValueError, match="needs a database URL"):
        ceilings.create_app("fetchrow")
    with pytest.raises(ValueError, match="needs a database URL"):
        ceilings.create_app("update")
    with pytest.raises(SystemExit):
        ceilings.main(["hello"])  # --port is required
