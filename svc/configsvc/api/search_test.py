"""Search from outside: what matches, where, in pages, and never past the token's grants."""

from __future__ import annotations

from typing import Any

API = "/api/v1"


async def seed(client: Any) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for name in ("payments", "catalog"):
        made[name] = await (await client.post(f"{API}/applications", json={"name": name})).json()
    configs = {
        "limits": (made["payments"], {"rate": 100, "retry": {"backoff_ms": 250, "on": ["5xx"]}}),
        "flags": (made["catalog"], {"new_checkout": True, "theme": "Dark Blue", "a/b": "x"}),
    }
    for name, (app, config) in configs.items():
        body = {"application_id": app["id"], "name": name, "config": config}
        made[name] = await (await client.post(f"{API}/configurations", json=body)).json()
    return made


async def search(client: Any, q: str, h: dict[str, str] | None = None, **params: Any) -> Any:
    resp = await client.get(f"{API}/search", params={"q": q, **params}, headers=h or {})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_names_keys_and_values_match_and_say_where(client) -> None:
    made = await seed(client)
    hits = (await search(client, "PAY"))["items"]
    assert [(h["kind"], h["id"]) for h in hits] == [("application", made["payments"]["id"])]
    assert hits[0]["matches"] == [{"where": "application_name", "path": None, "text": "payments"}]
    hits = (await search(client, "backoff"))["items"]
    assert hits[0]["id"] == made["limits"]["id"]
    assert hits[0]["application_name"] == "payments"
    assert hits[0]["configuration_name"] == "limits"
    key = {"where": "key", "path": "/retry/backoff_ms", "text": "backoff_ms"}
    assert hits[0]["matches"] == [key]
    value = (await search(client, "dark blue"))["items"][0]["matches"]
    assert value == [{"where": "value", "path": "/theme", "text": "Dark Blue"}]
    in_array = (await search(client, "5xx"))["items"][0]["matches"]
    assert in_array == [{"where": "value", "path": "/retry/on/0", "text": "5xx"}]
    assert (await search(client, "a/b"))["items"][0]["matches"][0]["path"] == "/a~1b"
    assert (await search(client, "flags"))["items"][0]["kind"] == "configuration"


async def test_wildcards_are_literal(client) -> None:
    await seed(client)
    assert (await search(client, "%"))["items"] == []
    assert (await search(client, "_"))["items"][0]["matches"][0]["text"] == "backoff_ms"


async def test_results_are_paged_with_the_cursor(client) -> None:
    for i in range(5):
        await client.post(f"{API}/applications", json={"name": f"svc-{i}"})
    first = await search(client, "svc", limit=3)
    assert len(first["items"]) == 3
    second = await search(client, "svc", limit=3, cursor=first["next_cursor"])
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    names = [h["application_name"] for h in first["items"] + second["items"]]
    assert names == [f"svc-{i}" for i in range(5)]


async def test_a_token_sees_only_what_it_may_read(client) -> None:
    made = await seed(client)
    grants = [{"application_id": made["payments"]["id"], "access": "read"}]
    token = await (await client.post(f"{API}/tokens", json={"name": "r", "grants": grants})).json()
    headers = {"Authorization": f"Bearer {token['token']}"}
    for q in ("a", "flags", "catalog", "Dark", "new_checkout"):
        hits = (await search(client, q, h=headers))["items"]
        assert {h["application_id"] for h in hits} <= {made["payments"]["id"]}, q
    assert (await search(client, "rate", h=headers))["items"][0]["id"] == made["limits"]["id"]
    nothing = await (await client.post(f"{API}/tokens", json={"name": "n"})).json()
    empty = await search(client, "a", h={"Authorization": f"Bearer {nothing['token']}"})
    assert empty["items"] == []


async def test_a_bad_query_is_a_422_naming_it(client) -> None:
    for params in ({}, {"q": ""}, {"q": "x" * 257}, {"q": "a\x00b"}, {"q": "a", "limit": "0"},
                   {"q": "a", "cursor": "zz"}):  # fmt: skip
        resp = await client.get(f"{API}/search", params=params)
        assert resp.status == 422, params
        fields = [e["field"] for e in (await resp.json())["errors"]]
        assert fields[0] in {"q", "limit", "cursor"}
