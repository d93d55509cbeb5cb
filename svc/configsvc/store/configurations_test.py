"""The configurations repository on its own: what it reads, JSON intact."""

from __future__ import annotations

import secrets

import pytest

from configsvc import app as app_mod
from configsvc import errors
from configsvc.service import writes
from configsvc.store import configurations


async def test_all_of_an_application_in_id_order_with_json_intact(pooled) -> None:
    app = await writes.create_application(pooled, writes.Write(), "app", "")
    made = [
        await writes.create_configuration(
            pooled, writes.Write(), app["id"],
            {"name": f"c{i}", "comments": "", "config": {"i": i, "l": [None, 1.5]}},
        )
        for i in range(3)
    ]  # fmt: skip
    async with pooled.connection() as conn:
        assert await configurations.all_of(conn, app["id"]) == sorted(made, key=lambda c: c["id"])
        assert await configurations.get(conn, made[0]["id"]) == made[0]
        with pytest.raises(errors.NotFound):
            await configurations.page(conn, "0" * 26, "", 10, 1024)


async def test_a_page_stops_at_its_byte_budget_and_the_cursor_still_visits_everything(
    aiohttp_client, settings, admin_headers
) -> None:
    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update={"page_max_bytes": 2048})),
        headers=admin_headers,
    )
    app = await (await client.post("/api/v1/applications", json={"name": "big"})).json()
    sizes = [20_000] + [900] * 7  # the first alone is over the budget; three fit in one
    made = []
    for i, size in enumerate(sizes):
        body = {"application_id": app["id"], "name": f"c{i}",
                "config": {"blob": secrets.token_urlsafe(size)[:size]}}  # fmt: skip
        resp = await client.post("/api/v1/configurations", json=body)
        assert resp.status == 201
        made.append((await resp.json())["id"])

    seen, pages, cursor = [], [], None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        page = await (
            await client.get(f"/api/v1/applications/{app['id']}/configurations", params=params)
        ).json()
        pages.append(len(page["items"]))
        seen += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == made, "every configuration exactly once, in id order"
    assert pages == [1, 3, 3, 1], "pages stop once they hold the budget, never empty"
