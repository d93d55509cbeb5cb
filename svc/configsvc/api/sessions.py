"""The console's sessions: sign in with a token, say who you are, sign out.

``POST /api/v1/sessions`` takes the token in its JSON body, or in ``Authorization: Bearer``
with a body of ``{}`` (never the URL), and answers with an HttpOnly, SameSite=Strict cookie
holding the session's secret, and the CSRF value that writes made with that cookie must send
(auth/sessions.py). The token itself is never stored in the browser.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.api import bodies, jsonbody, operation
from configsvc.auth import guard, sessions, tokens
from configsvc.db import database
from configsvc.service import audit, writing
from configsvc.service import sessions as session_service
from configsvc.store import tokens as token_store

CURRENT_PATH = f"{sessions.SIGN_IN_PATH}/current"


async def _secret(request: web.Request) -> str:
    """The token offered: the body's ``token`` if it has one, else the header's."""
    offered = (await bodies.body(request, models.SessionIn)).token
    return guard.presented(request) if offered is None else offered


async def _session(request: web.Request, session: sessions.Session) -> Any:
    async with request.app[database.DB].connection() as conn:
        token = await token_store.get(conn, session.token_id)
    return {"id": session.id, "expires_at": session.expires_at, "csrf_token": session.csrf,
            "token": token}  # fmt: skip


async def _token(request: web.Request, write: writing.Write) -> tokens.Token:
    """The valid token offered; a refusal is audited, as every refused sign-in."""
    try:
        return await request.app[guard.GUARD].token(await _secret(request))
    except errors.Unauthenticated as exc:
        await audit.refused(request.app[database.DB], write, "session.create", "session",
                            None, None, "denied", str(exc))  # fmt: skip
        raise


async def sign_in(request: web.Request) -> web.Response:
    """Exchange a token for a session cookie (HttpOnly, SameSite=Strict, `Secure` over TLS,
    expiring after `SESSION_TTL_S`). With an `Origin`, it must be this service's own or one in
    `ALLOWED_ORIGINS`."""
    settings = request.app[settings_mod.SETTINGS]
    write = operation.write_of(request)
    token = await _token(request, write)
    write = dataclasses.replace(write, actor=writing.Actor(token.id, token.name))
    db = request.app[database.DB]
    secret, made = await session_service.sign_in(db, token, settings.session_ttl_s, write)
    session = sessions.Session(made["id"], secret, made["expires_at"], token.id)
    body = await _session(request, session)
    response = jsonbody.response(body, status=201, headers={"Location": CURRENT_PATH})
    tls = sessions.secure(request, settings.trust_forwarded_proto)
    sessions.set_cookie(response, secret, int(settings.session_ttl_s), tls)
    return response


def _current(request: web.Request) -> sessions.Session:
    session: sessions.Session | None = request.get(sessions.SESSION)
    if session is None:
        raise errors.NotFound("this request carries no session cookie: sign in first")
    return session


async def get_session(request: web.Request) -> web.Response:
    """Who the session cookie stands for and what it may do (admin, grants), and its CSRF
    value. 404 for a request made with a bearer token instead."""
    session = _current(request)
    return jsonbody.response(await _session(request, session))


async def sign_out(request: web.Request) -> web.Response:
    """End the session and clear its cookie (a write: it needs the CSRF header). 404 for a
    request made with a bearer token instead."""
    session = _current(request)
    await session_service.sign_out(
        request.app[database.DB], session.id, operation.write_of(request)
    )
    response = web.Response(status=204)
    settings = request.app[settings_mod.SETTINGS]
    sessions.clear_cookie(response, sessions.secure(request, settings.trust_forwarded_proto))
    return response


OPERATIONS: tuple[operation.Operation, ...] = (
    operation.Operation("POST", sessions.SIGN_IN_PATH, sign_in, "Sign in to the console",
                     "sessions", 201, models.SessionIn, models.Session, errors=(400, 413, 415, 422),
                     needs="token"),
    operation.Operation("GET", CURRENT_PATH, get_session, "The console session of this request",
                     "sessions", response=models.Session, errors=(404,), needs="token"),
    operation.Operation("DELETE", CURRENT_PATH, sign_out, "Sign out of the console", "sessions",
                     204, errors=(404, 422), needs="token"),
)  # fmt: skip
