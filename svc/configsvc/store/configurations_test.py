"""The configurations repository on its own: what it reads, JSON intact."""

from __future__ import annotations

import itertools
import json
import secrets

import pytest

from configsvc import app as app_mod
from configsvc import errors
from configsvc.service import application_writes, configuration_writes, writing
from configsvc.store import configurations


async def test_all_of_an_application_in_id_order_with_json_intact(pooled) -> None:
    app = await application_writes.create_application(pooled, writing.Write(), "app", "")
    made = [
        await configuration_writes.create_configuration(
            pooled, writing.Write(), app["id"],
            {"name": f"c{i}", "comments": "", "config": {"i": i, "l": [None, 1.5]}},
        )
        for i in range(3)
    ]  # fmt: skip
    async with pooled.connection() as conn:
        assert await configurations.all_of(conn, app["id"]) == sorted(made, key=lambda c: c["id"])
        assert await configurations.get(conn, made[0]["id"]) == made[0]
        with pytest.raises(errors.NotFound):
            await configurations.page(conn, "0" * 26, "", 10, 1024)


BUDGET = 8192


async def pages_of(client, app_id: str) -> list[tuple[list[str], int]]:  # type: ignore[no-untyped-def]
    """Every page of the application's configurations: its ids, and the bytes sent."""
    pages, cursor = [], None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        resp = await client.get(f"/api/v1/applications/{app_id}/configurations", params=params)
        raw = await resp.read()
        page = json.loads(raw)
        pages.append(([item["id"] for item in page["items"]], len(raw)))
        if (cursor := page["next_cursor"]) is None:
            return pages


async def test_a_page_stops_at_the_bytes_it_sends_and_the_cursor_still_visits_everything(
    aiohttp_client, settings, admin_headers, db
) -> None:
    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update={"page_max_bytes": BUDGET})),
        headers=admin_headers,
    )
    app = await (await client.post("/api/v1/applications", json={"name": "big"})).json()
    # The first alone is over the budget; random text compresses badly, repeated text so well
    # that PostgreSQL stores 3,000 bytes of it in a few dozen.
    blobs = [secrets.token_urlsafe(20_000)] + [secrets.token_urlsafe(1500)[:1500]] * 7
    blobs += ["x" * 3000] * 12
    made, sent = [], {}
    for i, blob in enumerate(blobs):
        body = {"application_id": app["id"], "name": f"c{i}", "comments": 'a "quoted" note',
                "config": {"blob": blob, "n": [1.5, 10**20]}}  # fmt: skip
        resp = await client.post("/api/v1/configurations", json=body)
        assert resp.status == 201
        made.append((await resp.json())["id"])
        sent[made[-1]] = len(await resp.read())  # a page item is the resource's JSON
    # Equal, not LIKE 'x%': one random blob in 64 starts with an x too.
    stored = await db.fetchval(
        "SELECT max(pg_column_size(config)) FROM configurations"
        " WHERE config->>'blob' = repeat('x', 3000)"
    )
    assert stored < 300, "repeated text is stored compressed"

    pages = await pages_of(client, app["id"])
    assert [i for ids, _ in pages for i in ids] == made, "every configuration once, in order"
    assert all(ids for ids, _ in pages), "never an empty page"
    assert pages[0][0] == made[:1], "one over the budget is a page of its own"
    assert [size for ids, size in pages[1:] if size > BUDGET] == [], "no page over the budget"
    assert max(len(ids) for ids, _ in pages[-6:]) == 2, "compressed or not: 2 x 3,000 bytes"
    for (_, size), (following, _) in itertools.pairwise(pages[1:]):
        assert size + sent[following[0]] > BUDGET - 600, "a page stops only when it is full"
