"""Authentication of every request, before its handler (and so before its body) is read.

The credentials are ``Authorization: Bearer <secret>``; on the WebSocket upgrade also the
subprotocol ``configsvc.bearer.<base64url secret>`` (browsers cannot set headers there). Never
the query string. Without those, the console's session cookie (auth/sessions.py): the session
stands for its token, so it may do exactly what the token may. The caller found is stored on
the request for the handlers, the feed and the write path (see access.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.auth import access, cache, sessions, tokens
from configsvc.db import database
from configsvc.store import sessions as session_store

log = logging.getLogger(__name__)

# Paths anyone may fetch: health, the API description and its page.
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/api/v1/openapi.json",
        "/api/v1/asyncapi.json",
        "/api/v1/docs",
        "/api/v1/docs.js",
        "/api/v1/docs.css",
        # Signing in checks the token it is given itself (api/sessions.py); the console's
        # page and assets hold no data.
        sessions.SIGN_IN_PATH,
        "/",
        "/ui",
    }
)
PUBLIC_PREFIXES = ("/api/v1/docs/", "/ui/")
SUBPROTOCOL = "configsvc.v1"
BEARER_SUBPROTOCOL = tokens.BEARER_SUBPROTOCOL
FLUSH_EVERY_S = 1.0
CALLER: web.RequestKey[access.Caller] = web.RequestKey("caller", access.Caller)


class Guard:
    """This worker's mode, token cache and observe-mode counter."""

    def __init__(self, db: database.Database, mode: access.Mode) -> None:
        self.db, self.mode = db, mode
        self.cache = cache.TokenCache()
        self.observer = access.Observer()

    async def token(self, secret: str) -> tokens.Token:
        """The valid token with this secret; ``errors.Unauthenticated`` otherwise."""
        if not tokens.looks_like_secret(secret):
            raise errors.Unauthenticated("the token is malformed", presented=True)
        secret_hash = tokens.hash_secret(secret)
        hit, token = self.cache.cached(secret_hash)
        if not hit:
            async with self.db.connection() as conn:
                token = await self.cache.load(conn, secret_hash)
        if token is None:
            raise errors.Unauthenticated("unknown or revoked token", presented=True)
        if token.expired():
            raise errors.Unauthenticated("the token has expired", presented=True)
        self.cache.used(token)
        return token

    async def session(self, request: web.Request, secret: str) -> tokens.Token:
        """The token behind a live session cookie, good until the session ends at the latest.

        A write must carry the session's CSRF value (403 otherwise); the session is stored on
        the request for ``/api/v1/sessions/current``.
        """
        if not sessions.looks_like_secret(secret):
            raise errors.Unauthenticated("the session cookie is malformed", presented=True)
        async with self.db.connection() as conn:
            found = await session_store.by_hash(conn, tokens.hash_secret(secret))
        if found is None:
            raise errors.Unauthenticated("the session has ended: sign in again", presented=True)
        session, token = found[0], tokens.Token.from_resource(found[1])
        if token.expired():
            raise errors.Unauthenticated("the session's token has expired", presented=True)
        sessions.check_csrf(request, secret)
        request[sessions.SESSION] = sessions.Session(
            session["id"], secret, session["expires_at"], token.id
        )
        self.cache.used(token)
        ends = datetime.fromisoformat(session["expires_at"])
        if token.expires_at is None or ends < token.expires_at:
            token = dataclasses.replace(token, expires_at=ends)
        return token

    async def authenticate(self, request: web.Request) -> tokens.Token:
        """By the bearer token if there is one, else by the session cookie if there is one."""
        cookie = sessions.by_cookie(request)
        if cookie is not None:
            return await self.session(request, cookie)
        return await self.token(presented(request))

    async def caller(self, request: web.Request) -> access.Caller:
        if self.mode == "off":
            return access.Caller(None, "off", self.observer)
        try:
            token = await self.authenticate(request)
        except errors.Unauthenticated as exc:
            access.refuse(access.Caller(None, self.mode, self.observer), exc)
            return access.Caller(None, self.mode, self.observer)
        return access.Caller(token, self.mode, self.observer)


GUARD: web.AppKey[Guard] = web.AppKey("guard", Guard)


def presented(request: web.Request) -> str:
    """The secret the request carries; ``errors.Unauthenticated`` when there is none."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise errors.Unauthenticated("use Authorization: Bearer <token>", presented=True)
        return secret.strip()
    for protocol in request.headers.getall("Sec-WebSocket-Protocol", []):
        for offered in protocol.split(","):
            offered = offered.strip()
            if offered.startswith(BEARER_SUBPROTOCOL):
                decoded = tokens.decode_subprotocol(offered[len(BEARER_SUBPROTOCOL) :])
                if decoded is None:
                    raise errors.Unauthenticated("malformed bearer subprotocol", presented=True)
                return decoded
    raise errors.Unauthenticated("this needs a token: Authorization: Bearer <token>",
                                 presented=False)  # fmt: skip


def caller(request: web.Request) -> access.Caller | None:
    """Who made the request (None on a public path)."""
    return request.get(CALLER)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


async def _flush(guard: Guard) -> None:
    """Every second, write ``last_used_at`` of the tokens that are due (see cache.py)."""
    while True:
        await asyncio.sleep(FLUSH_EVERY_S)
        try:
            async with guard.db.connection() as conn:
                await guard.cache.flush(conn)
        except (errors.Unavailable, errors.DatabaseError) as exc:
            log.warning("recording token use failed: %r", exc)
        except Exception:
            # A bug must not stop the bookkeeping for good: say so loudly, try again later.
            log.exception("recording token use failed")


async def guard_ctx(app: web.Application) -> AsyncIterator[None]:
    """This worker's guard, and the task that keeps the cache's use records flowing."""
    settings = app[settings_mod.SETTINGS]
    guard = app[GUARD] = Guard(app[database.DB], settings.auth_mode)
    if settings.auth_mode == "off":
        log.warning("AUTH_MODE=off: every request is allowed, without a token")
    task = asyncio.create_task(_flush(guard), name="token use recorder")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
