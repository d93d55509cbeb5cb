"""Which requests a session cookie authenticates, and what they must carry besides."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from configsvc import app as app_mod
from configsvc import errors
from configsvc.auth import sessions


def request(method: str = "GET", path: str = "/api/v1/x", **headers: str):  # type: ignore[no-untyped-def]
    return make_mocked_request(method, path, headers=headers)


COOKIE = {"Cookie": f"{sessions.COOKIE}=abc"}


def test_the_csrf_value_is_derived_from_the_secret_and_is_not_it() -> None:
    one, two = sessions.new_secret(), sessions.new_secret()
    assert sessions.looks_like_secret(one)
    assert not sessions.looks_like_secret(one + "!")
    assert sessions.csrf_of(one) == sessions.csrf_of(one) != sessions.csrf_of(two)
    assert one not in sessions.csrf_of(one)


def test_a_bearer_token_wins_over_the_cookie() -> None:
    assert sessions.by_cookie(request(**COOKIE)) == "abc"
    assert sessions.by_cookie(request(Authorization="Bearer x", **COOKIE)) is None
    protocol = {"Sec-WebSocket-Protocol": "configsvc.v1, configsvc.bearer.eHl6"}
    assert sessions.by_cookie(request(**protocol, **COOKIE)) is None


def test_which_requests_must_name_their_origin() -> None:
    assert sessions.needs_origin(request("POST", **COOKIE)) is True
    assert sessions.needs_origin(request("GET", Upgrade="websocket", **COOKIE)) is True
    assert sessions.needs_origin(request("GET", **COOKIE)) is False
    assert sessions.needs_origin(request("POST", sessions.SIGN_IN_PATH)) is None
    assert sessions.needs_origin(request("POST")) is False


def test_writes_need_the_csrf_value_and_reads_do_not() -> None:
    secret = sessions.new_secret()
    sessions.check_csrf(request("GET"), secret)
    sessions.check_csrf(
        request("DELETE", **{sessions.CSRF_HEADER: sessions.csrf_of(secret)}), secret
    )
    for sent in ("", "x", sessions.csrf_of(sessions.new_secret())):
        with pytest.raises(errors.Forbidden):
            sessions.check_csrf(request("PUT", **{sessions.CSRF_HEADER: sent}), secret)


def test_forwarded_https_counts_only_when_trusted() -> None:
    forwarded = request(**{"X-Forwarded-Proto": "https"})
    assert sessions.secure(forwarded, trust_forwarded_proto=True)
    assert not sessions.secure(forwarded, trust_forwarded_proto=False)
    assert not sessions.secure(request(), trust_forwarded_proto=True)


async def test_listed_origins_may_use_a_session_and_a_star_does_not_count(
    aiohttp_client, settings, admin_token
) -> None:
    for allowed, origin, status in (("https://ops.example.com", "https://ops.example.com", 201),
                                    ("*", "https://evil.example", 403)):  # fmt: skip
        tuned = settings.model_copy(
            update={"allowed_origins": allowed, "trust_forwarded_proto": True}
        )
        client = await aiohttp_client(app_mod.create_app(tuned))
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            base = str(client.make_url("")).rstrip("/")
            resp = await http.post(f"{base}{sessions.SIGN_IN_PATH}", json={"token": admin_token},
                                   headers={"X-Forwarded-Proto": "https"})  # fmt: skip
            assert "Secure" in resp.headers["Set-Cookie"]
            csrf = (await resp.json())["csrf_token"]
            jar.update_cookies({sessions.COOKIE: resp.cookies[sessions.COOKIE].value})
            headers = {"Origin": origin, sessions.CSRF_HEADER: csrf}
            made = await http.post(f"{base}/api/v1/applications", json={"name": allowed},
                                   headers=headers)  # fmt: skip
            assert made.status == status, await made.text()
