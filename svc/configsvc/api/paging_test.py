"""Paged lists over HTTP: opaque cursors that round-trip, and a clear 422 for a forged one."""

from __future__ import annotations

import base64

from configsvc.api import operation, paging

API = operation.PREFIX


async def _names(client, params: dict[str, str]) -> tuple[list[str], str | None]:
    resp = await client.get(f"{API}/applications", params=params)
    assert resp.status == 200
    body = await resp.json()
    return [item["name"] for item in body["items"]], body["next_cursor"]


async def test_cursors_walk_every_item_once_and_end_with_null(client) -> None:
    for name in ("a", "b", "c", "d", "e"):
        assert (await client.post(f"{API}/applications", json={"name": name})).status == 201
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        names, cursor = await _names(client, params)
        seen += names
        pages += 1
        if cursor is None:
            break
        assert "=" not in cursor, "URL-safe and unpadded"
    assert (seen, pages) == (["a", "b", "c", "d", "e"], 3)


async def test_an_exactly_full_last_page_has_no_next_cursor(client) -> None:
    for name in ("a", "b"):
        await client.post(f"{API}/applications", json={"name": name})
    assert await _names(client, {"limit": "2"}) == (["a", "b"], None)


async def test_a_malformed_cursor_is_a_422_naming_cursor_and_changes_nothing(client) -> None:
    forged = base64.urlsafe_b64encode(b"' OR 1=1 --").decode()
    for cursor in ("!!!", "x", forged, "\u00e9", base64.urlsafe_b64encode(b"\xff\xfe").decode()):
        resp = await client.get(f"{API}/applications", params={"cursor": cursor})
        assert resp.status == 422, cursor
        assert resp.content_type == "application/problem+json"
        assert [e["field"] for e in (await resp.json())["errors"]] == ["cursor"]


async def test_a_cursor_is_the_last_id_seen_so_it_survives_that_item_being_deleted(client) -> None:
    made = [await (await client.post(f"{API}/applications", json={"name": n})).json()
            for n in ("a", "b", "c")]  # fmt: skip
    first, cursor = await _names(client, {"limit": "1"})
    assert first == ["a"]
    assert cursor == paging._encode_cursor(made[0]["id"])
    assert (await client.delete(f"{API}/applications/{made[0]['id']}")).status == 204
    assert await _names(client, {"cursor": cursor}) == (["b", "c"], None)
