"""/api/v1/tokens over HTTP: admin only (but ``self``), the secret shown once, 404s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from configsvc_contract import models

from configsvc.api import operation
from configsvc.auth import tokens

API = operation.PREFIX


async def test_creating_shows_the_secret_once_and_it_works_as_a_bearer(client) -> None:
    resp = await client.post(f"{API}/tokens", json={"name": "ci", "admin": True})
    assert resp.status == 201
    created = await resp.json()
    assert resp.headers["Location"] == f"{API}/tokens/{created['id']}"
    assert tokens.looks_like_secret(created["token"])
    assert (created["name"], created["admin"], created["last_used_at"]) == ("ci", True, None)
    shown = [await (await client.get(f"{API}/tokens/{created['id']}")).json()]
    shown += (await (await client.get(f"{API}/tokens")).json())["items"]
    assert all("token" not in t and "secret_hash" not in t for t in shown)
    own = await client.get(
        f"{API}/tokens/self", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert (await own.json())["id"] == created["id"]
    assert "token" not in await own.json()


async def test_self_answers_any_valid_token_but_the_rest_is_admin_only(client) -> None:
    made = await (await client.post(f"{API}/tokens", json={"name": "reader"})).json()
    headers = {"Authorization": f"Bearer {made['token']}"}
    own = await client.get(f"{API}/tokens/self", headers=headers)
    assert (own.status, (await own.json())["name"]) == (200, "reader")
    one = f"{API}/tokens/{made['id']}"
    for method, url in [("GET", f"{API}/tokens"), ("GET", one), ("POST", f"{API}/tokens"),
                        ("PUT", one), ("DELETE", one)]:  # fmt: skip
        resp = await client.request(method, url, headers=headers, json={"name": "x"})
        assert resp.status == 403, (method, url)
    assert (await client.get(f"{API}/tokens/{made['id']}")).status == 200, "nothing was revoked"
    listed = (await (await client.get(f"{API}/tokens")).json())["items"]
    assert [t["name"] for t in listed] == ["bootstrap", "reader"]


async def test_an_unknown_or_malformed_token_id_is_404(client) -> None:
    for token_id in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id", "%27%20OR%201%3D1"):
        resp = await client.get(f"{API}/tokens/{token_id}")
        assert resp.status == 404, token_id
        assert resp.content_type == "application/problem+json"


async def test_token_bodies_are_validated_field_by_field(client) -> None:
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x", "admin": "yes"}, "admin"),
        ({"name": "x", "grants": [{"application_id": "nope", "access": "read"}]},
         "grants.0.application_id"),
        ({"name": "x", "grants": [{"application_id": "*", "access": "admin"}]}, "grants.0.access"),
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "token": "cfs_mine"}, "token"),
    ]  # fmt: skip
    for body, field in cases:
        resp = await client.post(f"{API}/tokens", json=body)
        assert resp.status == 422, body
        assert field in {e["field"] for e in (await resp.json())["errors"]}
    assert len((await (await client.get(f"{API}/tokens")).json())["items"]) == 1


async def test_tokens_are_listed_in_pages_read_replaced_and_revoked(client) -> None:
    made = [await (await client.post(f"{API}/tokens", json={"name": f"t{i}"})).json()
            for i in range(3)]  # fmt: skip
    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await (await client.get(f"{API}/tokens", params=params)).json()
        seen += [t["name"] for t in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == ["bootstrap", "t0", "t1", "t2"]
    url = f"{API}/tokens/{made[0]['id']}"
    new = {"name": "renamed", "grants": [{"application_id": "*", "access": "read"}],
           "expires_at": "2100-01-01T00:00:00Z"}  # fmt: skip
    replaced = await (await client.put(url, json=new)).json()
    assert (replaced["name"], replaced["grants"], replaced["expires_at"]) == (
        "renamed", new["grants"], "2100-01-01T00:00:00Z")  # fmt: skip
    assert (await client.delete(url)).status == 204
    assert (await client.get(url)).status == 404
    assert (await client.delete(url)).status == 404
    assert (await client.put(url, json=new)).status == 404
    assert (await client.get(f"{API}/tokens/not-an-id")).status == 404


async def test_token_changes_are_audited_with_who_and_why_never_the_secret(client, db) -> None:
    why = {"X-Change-Reason": "onboard the billing team"}
    created = await (await client.post("/api/v1/tokens", json={"name": "ci"}, headers=why)).json()
    url = f"/api/v1/tokens/{created['id']}"
    assert (await client.put(url, json={"name": "ci-2"})).status == 200
    assert (await client.delete(url)).status == 204
    resp = await client.get("/api/v1/audit", params={"action": "token.create"})
    assert [e["reason"] for e in (await resp.json())["items"]] == ["onboard the billing team"]
    rows = await db.fetch(
        "SELECT action, target_id, actor_name FROM audit WHERE target_kind = 'token'"
        " AND target_id = $1 ORDER BY id", created["id"],
    )  # fmt: skip
    assert [r["action"] for r in rows] == ["token.create", "token.replace", "token.revoke"]
    assert {r["actor_name"] for r in rows} == {"bootstrap"}
    dump = repr([dict(r) for r in await db.fetch("SELECT * FROM audit")])
    assert created["token"] not in dump


async def test_an_expiry_in_the_past_is_refused_so_an_admin_cannot_lock_itself_out(client) -> None:
    own = await (await client.get(f"{API}/tokens/self")).json()
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    for expires_at in (past, "2000-01-01T00:00:00Z"):
        resp = await client.put(
            f"{API}/tokens/{own['id']}", json={"name": "me", "expires_at": expires_at}
        )
        assert resp.status == 422, expires_at
        assert [e["field"] for e in (await resp.json())["errors"]] == ["expires_at"]
        resp = await client.post(f"{API}/tokens", json={"name": "new", "expires_at": expires_at})
        assert resp.status == 422, expires_at
        assert [e["field"] for e in (await resp.json())["errors"]] == ["expires_at"]
    after = await client.get(f"{API}/tokens/self")
    assert after.status == 200, "the admin token still works"
    assert (await after.json())["expires_at"] is None
    listed = (await (await client.get(f"{API}/tokens")).json())["items"]
    assert [t["name"] for t in listed] == ["bootstrap"], "nothing was created"
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    resp = await client.put(f"{API}/tokens/{own['id']}", json={"name": "me", "expires_at": soon})
    assert resp.status == 200, "a future expiry is fine"


async def test_a_repeated_grant_is_refused_naming_where_it_repeats(client) -> None:
    read, write = ({"application_id": "*", "access": a} for a in ("read", "write"))
    made = await (await client.post(f"{API}/tokens", json={"name": "t", "grants": [read]})).json()
    url = f"{API}/tokens/{made['id']}"
    for method, target in (("POST", f"{API}/tokens"), ("PUT", url)):
        body = {"name": "t", "grants": [read, write, read, *[write] * 300]}
        resp = await client.request(method, target, json=body)
        assert resp.status == 422, method
        fields = [e["field"] for e in (await resp.json())["errors"]]
        assert fields[:3] == ["grants.2", "grants.3", "grants.4"]
        assert len(fields) == 301
    assert (await (await client.get(url)).json())["grants"] == [read], "unchanged"
    many = [
        {"application_id": f"{i:026d}", "access": "read"}
        for i in range(models.TOKEN_GRANTS_MAX + 1)
    ]
    resp = await client.post(f"{API}/tokens", json={"name": "t", "grants": many})
    assert resp.status == 422
    assert [e["field"] for e in (await resp.json())["errors"]] == ["grants"]
    resp = await client.post(f"{API}/tokens", json={"name": "t", "grants": many[:-1]})
    assert resp.status == 201, "as many as the document allows, each once"
    assert len((await resp.json())["grants"]) == models.TOKEN_GRANTS_MAX


async def test_an_expiry_past_year_9999_in_utc_is_a_422_not_a_500(client) -> None:
    """9999-12-31T23:59:59-05:00 is valid RFC 3339, but in year 10000 in UTC, where it is kept."""
    for expires_at in ("9999-12-31T23:59:59-05:00", "9999-12-31T23:00:00-01:00"):
        resp = await client.post(f"{API}/tokens", json={"name": "t", "expires_at": expires_at})
        assert resp.status == 422, expires_at
        assert [e["field"] for e in (await resp.json())["errors"]] == ["expires_at"]
    resp = await client.post(
        f"{API}/tokens", json={"name": "t", "expires_at": "9999-12-31T23:59:59+05:00"}
    )
    assert resp.status == 201, "the latest moment there is, from the east"
    assert (await resp.json())["expires_at"] == "9999-12-31T18:59:59Z"
    listed = (await (await client.get(f"{API}/tokens")).json())["items"]
    assert [t["name"] for t in listed] == ["bootstrap", "t"]
