"""The HTTP edge: which Host a request may name and which Origin may open the feed or use a
session cookie.

A Host check stops DNS rebinding (a page on evil.example resolving its name to 127.0.0.1 and
reading the API as same-origin); an Origin check stops any page from opening ``/api/v1/ws``
with the visitor's network position. A request that authenticates by the console's session
cookie and changes something (or opens the feed), and a sign-in, must come from this service's
own origin or one listed in ALLOWED_ORIGINS (``*`` does not count there). Each answers 403
problem+json naming what was refused.
Every response is also stamped ``Server: configsvc``, so no version is given away.
"""

from __future__ import annotations

import functools
import ipaddress
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web, web_response

from configsvc import settings as settings_mod
from configsvc.api import problems
from configsvc.auth import sessions

SERVER = "configsvc"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class Rules:
    """Allowed host names (None: any) and extra allowed origins (None: any)."""

    hosts: frozenset[str] | None
    origins: frozenset[str] | None

    @classmethod
    def from_settings(cls, settings: settings_mod.Settings) -> Rules:
        hosts, origins = _listed(settings.allowed_hosts), _listed(settings.allowed_origins)
        if hosts is not None and not hosts:
            hosts = LOOPBACK_NAMES if _is_loopback(settings.host) else None
        return cls(hosts, origins)


RULES: web.AppKey[Rules] = web.AppKey("edge_rules", Rules)


def _listed(value: str) -> frozenset[str] | None:
    """A comma-separated setting as a set of lower-cased entries; None for ``*``."""
    entries = frozenset(e.strip().lower().rstrip("/") for e in value.split(",") if e.strip())
    return None if "*" in entries else entries


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)  # one parse per distinct Host, not per request
def _hostname(authority: str) -> str:
    """``example.com:8080`` -> ``example.com``; ``[::1]:80`` -> ``::1``."""
    return (urllib.parse.urlsplit(f"//{authority}").hostname or "").lower()


def _same_origin(origin: str, host: str) -> bool:
    parts = urllib.parse.urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def refusal(request: web.Request, rules: Rules) -> web.Response | None:
    """The 403 this request gets at the edge, or None when it may go on."""
    host = request.headers.get(hdrs.HOST, "")
    if rules.hosts is not None and _hostname(host) not in rules.hosts:
        detail = f"the Host header {host[:200]!r} is not one this server answers"
        return problems.problem(403, "host-not-allowed", "Host not allowed", detail)
    origin = request.headers.get(hdrs.ORIGIN)
    cookie = sessions.needs_origin(request)
    if cookie is not False:
        return _session_refusal(origin, host, rules, required=cookie is True)
    if origin is None or request.headers.get(hdrs.UPGRADE, "").lower() != "websocket":
        return None
    if _same_origin(origin, host) or rules.origins is None or origin.lower() in rules.origins:
        return None
    detail = f"the Origin {origin[:200]!r} may not open the live feed"
    return problems.problem(403, "origin-not-allowed", "Origin not allowed", detail)


def _session_refusal(
    origin: str | None, host: str, rules: Rules, *, required: bool
) -> web.Response | None:
    if origin is None and not required:
        return None
    listed = rules.origins is not None and (origin or "").lower() in rules.origins
    if origin is not None and (_same_origin(origin, host) or listed):
        return None
    detail = f"the Origin {(origin or 'none')[:200]!r} may not use a console session"
    return problems.problem(403, "origin-not-allowed", "Origin not allowed", detail)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a foreign Host, or a foreign Origin on a WebSocket upgrade, before any handler."""
    refused = refusal(request, request.app[RULES])
    return refused if refused is not None else await handler(request)


async def stamp_server(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: replace aiohttp's ``Server: Python/3.x aiohttp/3.x``."""
    response.headers[hdrs.SERVER] = SERVER


def setup(app: web.Application, settings: settings_mod.Settings) -> None:
    app[RULES] = Rules.from_settings(settings)
    app.on_response_prepare.append(stamp_server)
    # A request aiohttp's parser refuses (400) is answered before any app hook runs, with
    # the default Server header: that default is the only place to change it.
    web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]
