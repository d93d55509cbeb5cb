"""The console's sessions from outside, as a browser and as hostile pages would use them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from configsvc.auth import sessions

API = "/api/v1"
SESSIONS = f"{API}/sessions"
CURRENT = f"{SESSIONS}/current"


class Browser:
    """A cookie-keeping client that sends no Authorization header, as a page does."""

    def __init__(self, client: Any) -> None:
        self.base = str(client.make_url("")).rstrip("/")
        self.origin = self.base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, secret: str) -> dict[str, Any]:
        resp = await self.http.post(self.base + SESSIONS, json={"token": secret},
                                    headers={"Origin": self.origin})  # fmt: skip
        assert resp.status == 201, await resp.text()
        session: dict[str, Any] = await resp.json()
        self.csrf = session["csrf_token"]
        return session

    def request(self, method: str, path: str, *, csrf: bool = True, **kw: Any) -> Any:
        headers = {"Origin": self.origin, **kw.pop("headers", {})}
        if csrf:
            headers[sessions.CSRF_HEADER] = self.csrf
        return self.http.request(method, self.base + path, headers=headers, **kw)


@pytest.fixture
async def browser(client):
    page = Browser(client)
    yield page
    await page.http.close()


async def make_token(client: Any, **fields: Any) -> dict[str, Any]:
    resp = await client.post(f"{API}/tokens", json={"name": "console", **fields})
    assert resp.status == 201
    created: dict[str, Any] = await resp.json()
    return created


async def test_a_session_does_what_its_token_does_and_signs_out(client, browser, db) -> None:
    app = await (await client.post(f"{API}/applications", json={"name": "a"})).json()
    reader = await make_token(client, grants=[{"application_id": app["id"], "access": "read"}])
    resp = await browser.http.post(browser.base + SESSIONS, json={"token": reader["token"]})
    assert resp.status == 201
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Max-Age=" in cookie
    assert "Secure" not in cookie  # plain HTTP here
    assert reader["token"] not in cookie
    session = await resp.json()
    browser.csrf = session["csrf_token"]
    assert session["token"]["id"] == reader["id"]
    assert "token" not in session["token"]  # never the secret
    async with browser.request("GET", f"{API}/applications/{app['id']}") as got:
        assert got.status == 200
    body = {"application_id": app["id"], "name": "c", "config": {}}
    async with browser.request("POST", f"{API}/configurations", json=body) as refused:
        assert refused.status == 403  # read only, as its token
    async with browser.request("GET", CURRENT) as current:
        assert (await current.json())["csrf_token"] == session["csrf_token"]
    async with browser.request("DELETE", CURRENT) as out:
        assert out.status == 204
        assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert await db.fetchval("SELECT count(*) FROM sessions") == 0
    async with browser.request("GET", CURRENT, cookies={sessions.COOKIE: "x" * 43}) as gone:
        assert gone.status == 401
    actions = await db.fetch("SELECT action, actor_id FROM audit WHERE target_kind = 'session'")
    assert [(r["action"], r["actor_id"]) for r in actions] == [
        ("session.create", reader["id"]), ("session.delete", reader["id"])
    ]  # fmt: skip


async def test_the_token_may_also_come_in_the_header(client, browser) -> None:
    async with browser.http.post(browser.base + SESSIONS, json={},
                                 headers=dict(client.session.headers)) as resp:  # fmt: skip
        assert resp.status == 201
    async with browser.request("GET", f"{API}/applications") as listed:
        assert listed.status == 200


async def test_a_bad_token_gets_no_session_and_is_audited(browser, db) -> None:
    for body in ({"token": "cfs_" + "x" * 43}, {"token": "nope"}, {}):
        async with browser.http.post(browser.base + SESSIONS, json=body) as resp:
            assert resp.status == 401
            assert "Set-Cookie" not in resp.headers
    async with browser.http.post(browser.base + SESSIONS, json={"token": 5}) as resp:
        assert resp.status == 422
    assert await db.fetchval("SELECT count(*) FROM sessions") == 0
    denied = await db.fetchval("SELECT count(*) FROM audit WHERE action = 'session.create'")
    assert denied == 3


async def test_cookie_writes_need_the_csrf_header_and_an_allowed_origin(
    client, browser, admin_token, db
) -> None:
    await browser.sign_in(admin_token)
    body = {"name": "x"}
    async with browser.request("POST", f"{API}/applications", json=body, csrf=False) as resp:
        assert resp.status == 403
        assert "X-CSRF-Token" in (await resp.json())["detail"]
    headers = {sessions.CSRF_HEADER: "forged"}
    async with browser.request("POST", f"{API}/applications", json=body, csrf=False,
                               headers=headers) as resp:  # fmt: skip
        assert resp.status == 403
    for origin in ("http://evil.example", "null"):
        async with browser.request("POST", f"{API}/applications", json=body,
                                   headers={"Origin": origin}) as resp:  # fmt: skip
            assert resp.status == 403
            assert (await resp.json())["type"].endswith("origin-not-allowed")
    async with browser.http.post(browser.base + f"{API}/applications", json=body,
                                 headers={sessions.CSRF_HEADER: browser.csrf}) as resp:  # fmt: skip
        assert resp.status == 403, "a write without any Origin is no page of ours"
    assert await db.fetchval("SELECT count(*) FROM applications") == 0
    refused = await db.fetch(
        "SELECT action, outcome, detail FROM audit WHERE action = 'POST /api/v1/applications'"
    )
    assert [r["outcome"] for r in refused] == ["denied", "denied"], "the two CSRF refusals"
    assert "X-CSRF-Token" in refused[0]["detail"]
    async with browser.request("POST", f"{API}/applications", json=body) as resp:
        assert resp.status == 201
    # A sign-in from another site (login CSRF) is refused too.
    async with browser.http.post(browser.base + SESSIONS, json={"token": admin_token},
                                 headers={"Origin": "http://evil.example"}) as resp:  # fmt: skip
        assert resp.status == 403


async def test_bearer_requests_are_unaffected_by_a_cookie(client, browser, admin_token) -> None:
    await browser.sign_in(admin_token)
    headers = {"Authorization": f"Bearer {admin_token}", "Origin": "http://evil.example"}
    resp = await browser.http.post(browser.base + f"{API}/applications", json={"name": "b"},
                                   headers=headers)  # fmt: skip
    assert resp.status == 201
    bearer = {"Authorization": headers["Authorization"]}
    async with browser.request("GET", CURRENT, headers=bearer) as r:
        assert r.status == 404  # a bearer request has no session


async def test_a_cross_site_websocket_with_the_cookie_is_refused(browser, admin_token) -> None:
    await browser.sign_in(admin_token)
    url = browser.base + f"{API}/ws"
    for origin in ("http://evil.example", None):
        headers = {} if origin is None else {"Origin": origin}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await browser.http.ws_connect(url, headers=headers)
        assert refused.value.status == 403
    async with browser.http.ws_connect(url, headers={"Origin": browser.origin}) as ws:
        await ws.send_json({"type": "subscribe", "application_name": "missing"})
        assert (await ws.receive_json(timeout=5))["code"] == "not_found"


async def test_expired_and_revoked_sessions_are_refused(client, browser, db) -> None:
    token = await make_token(client, admin=True)
    await browser.sign_in(token["token"])
    await db.execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
    async with browser.request("GET", f"{API}/applications") as resp:
        assert resp.status == 401
    await browser.sign_in(token["token"])
    assert (await client.delete(f"{API}/tokens/{token['id']}")).status == 204
    async with browser.request("GET", f"{API}/applications") as resp:
        assert resp.status == 401
    assert await db.fetchval("SELECT count(*) FROM sessions WHERE expires_at > now()") == 0


async def test_a_session_ends_with_its_token(client, browser) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    token = await make_token(client, admin=True, expires_at=soon)
    session = await browser.sign_in(token["token"])
    assert session["token"]["expires_at"] is not None


async def test_the_session_cookie_never_reaches_the_logs(browser, admin_token, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await browser.sign_in(admin_token)
    async with browser.request("GET", CURRENT):
        pass
    secret = next(c.value for c in browser.http.cookie_jar if c.key == sessions.COOKIE)
    assert secret not in caplog.text
    assert admin_token not in caplog.text


async def test_a_malformed_cookie_is_a_401(browser) -> None:
    async with browser.request("GET", f"{API}/applications",
                               cookies={sessions.COOKIE: "short"}) as resp:  # fmt: skip
        assert resp.status == 401


async def test_every_documented_answer_of_sessions_and_search(client, browser, settings) -> None:
    from configsvc.api import openapi, openapi_test

    doc = await (await client.get(openapi.OPENAPI_PATH)).json()
    contract = openapi_test.Contract(doc)
    search = f"{API}/search"
    json_type = {"Content-Type": "application/json"}
    for data, headers in (("{", json_type), ("x", {"Content-Type": "text/plain"}),
                          (b" " * (settings.max_body_bytes + 1), json_type), ("[1]", json_type),
                          ('{"token": 1}', json_type)):  # fmt: skip
        await contract.check("POST", SESSIONS, await client.post(SESSIONS, data=data,
                                                                 headers=headers))  # fmt: skip
    await contract.check("POST", SESSIONS, await client.post(SESSIONS, json={"token": "nope"}))
    await contract.check("POST", SESSIONS, await client.post(SESSIONS, json={}))
    await contract.check("GET", CURRENT, await client.get(CURRENT))
    await contract.check("DELETE", CURRENT, await client.delete(CURRENT))
    await contract.check("GET", search, await client.get(search, params={"q": "a"}))
    await contract.check("GET", search, await client.get(search))
    nope = {"Authorization": "Bearer nope"}
    for method, path in (("GET", CURRENT), ("DELETE", CURRENT), ("GET", search)):
        await contract.check(method, path, await client.request(method, path, headers=nope))
    cookie_holder = Browser(client)
    try:
        resp = await cookie_holder.http.post(cookie_holder.base + SESSIONS, json={},
                                             headers=dict(client.session.headers))  # fmt: skip
        cookie_holder.csrf = (await contract.check("POST", SESSIONS, resp))["csrf_token"]
        await contract.check("GET", CURRENT, await cookie_holder.request("GET", CURRENT))
        long_reason = {"X-Change-Reason": "r" * 1025}
        resp = await cookie_holder.request("DELETE", CURRENT, headers=long_reason)
        await contract.check("DELETE", CURRENT, resp)
        await contract.check("DELETE", CURRENT, await cookie_holder.request("DELETE", CURRENT))
    finally:
        await cookie_holder.http.close()
    assert openapi_test.every_status(doc, "console") - contract.seen == set()
