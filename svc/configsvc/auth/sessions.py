"""Console sessions: the cookie, its CSRF value, and which requests authenticate by it.

A browser exchanges a token for a session (api/sessions.py); the session's secret lives only in
an HttpOnly cookie, and only its SHA-256 in the database. A request authenticates by the cookie
when it carries no bearer credentials (a bearer token always wins). Such a request that is not
a read needs ``X-CSRF-Token``: a value derived from the session's secret, which a page learns
from the sign-in response or ``GET /api/v1/sessions/current`` and another site cannot (it can
make the browser send the cookie, never read it). The Origin of cookie-authenticated writes and
WebSocket upgrades is checked at the edge (api/edge.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import hdrs, web

from configsvc import errors
from configsvc.auth import tokens

COOKIE = "configsvc_session"
SIGN_IN_PATH = "/api/v1/sessions"
CSRF_HEADER = "X-CSRF-Token"
SECRET_LENGTH = 43  # secrets.token_urlsafe(32)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Session:
    """The session a request authenticated by: its id and secret, when it ends, its token."""

    id: str
    secret: str
    expires_at: str
    token_id: str

    @property
    def csrf(self) -> str:
        return csrf_of(self.secret)


SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def looks_like_secret(value: str) -> bool:
    return len(value) == SECRET_LENGTH and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in value
    )


def csrf_of(secret: str) -> str:
    """The session's CSRF value: anyone holding the cookie's value can derive it, nobody else."""
    digest = hashlib.sha256(b"configsvc csrf\x00" + secret.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def bearer_offered(request: web.Request) -> bool:
    """Whether the request carries a bearer token (header, or the WebSocket subprotocol)."""
    if hdrs.AUTHORIZATION in request.headers:
        return True
    offered = ",".join(request.headers.getall(hdrs.SEC_WEBSOCKET_PROTOCOL, []))
    return any(p.strip().startswith(tokens.BEARER_SUBPROTOCOL) for p in offered.split(","))


def by_cookie(request: web.Request) -> str | None:
    """The session cookie's value when the request authenticates by it, else None."""
    # No Cookie header, nothing to parse: aiohttp would parse an empty one and keep the result
    # on the request, which a WebSocket keeps for as long as it is open.
    if hdrs.COOKIE not in request.headers or bearer_offered(request):
        return None
    return request.cookies.get(COOKIE)


def is_websocket(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def needs_origin(request: web.Request) -> bool | None:
    """Whether the request must name an allowed Origin (True), or only may (None), or neither.

    A cookie-authenticated write or WebSocket upgrade must: a browser always sends Origin on
    those, so a missing one is not a page of ours. A sign-in may (a command line sends none).
    """
    if by_cookie(request) is not None and (request.method not in SAFE_METHODS
                                           or is_websocket(request)):  # fmt: skip
        return True
    if request.path == SIGN_IN_PATH and request.method == "POST":
        return None
    return False


def check_csrf(request: web.Request, secret: str) -> None:
    """A cookie-authenticated write must echo the session's CSRF value: 403 otherwise."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_of(secret).encode()):
        raise errors.Forbidden(
            f"a write with the session cookie needs the {CSRF_HEADER} header of its session"
        )


def secure(request: web.Request, trust_forwarded_proto: bool) -> bool:
    """Whether the browser reached us over TLS (as the proxy says, if it is trusted)."""
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return trust_forwarded_proto and forwarded == "https"


def set_cookie(response: web.StreamResponse, secret: str, max_age: int, tls: bool) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), expiring."""
    response.set_cookie(
        COOKIE, secret, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=tls
    )


def clear_cookie(response: web.StreamResponse, tls: bool) -> None:
    response.set_cookie(
        COOKIE, "", max_age=0, path="/", httponly=True, samesite="Strict", secure=tls
    )
