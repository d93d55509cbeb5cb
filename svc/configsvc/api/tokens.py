"""Handlers of /api/v1/tokens: admin only, except ``/tokens/self`` (any valid token).

Token writes go through service/tokens.py, which owns their transactions and NOTIFYs.
"""

from __future__ import annotations

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, operation, paging
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.live import revocation
from configsvc.service import tokens as token_service
from configsvc.store import tokens as token_store


def _admin(request: web.Request) -> database.Database:
    access.require_admin(guard.caller(request))
    return request.app[database.DB]


async def create_token(request: web.Request) -> web.Response:
    """The response carries the secret as `token`: it is shown this once, never again."""
    db = _admin(request)
    body = await bodies.body(request, models.TokenIn)
    created = await token_service.create(db, body.model_dump(), operation.write_of(request))
    return web.json_response(
        created, status=201, headers={"Location": f"/api/v1/tokens/{created['id']}"}
    )


async def list_tokens(request: web.Request) -> web.Response:
    """In id order, paged like the other lists; never a secret."""
    db = _admin(request)
    limit, after = bodies.limit(request), paging.cursor(request)
    async with db.connection() as conn:
        items = await token_store.page(conn, after, limit + 1)
    return paging.page(items[:limit], len(items) > limit)


async def get_token(request: web.Request) -> web.Response:
    db = _admin(request)
    token_id = operation.path_id(request, "token")
    async with db.connection() as conn:
        return web.json_response(await token_store.get(conn, token_id))


async def get_own_token(request: web.Request) -> web.Response:
    """The token the request was made with."""
    caller = guard.caller(request)
    if caller is None or caller.token is None:
        raise errors.NotFound("this request carries no token")
    async with request.app[database.DB].connection() as conn:
        return web.json_response(await token_store.get(conn, caller.token.id))


async def replace_token(request: web.Request) -> web.Response:
    """Replaces name, grants and expiry; open sockets lose what the token may no longer read."""
    db = _admin(request)
    token_id = operation.path_id(request, "token")
    body = await bodies.body(request, models.TokenReplace)
    grants = [grant.model_dump() for grant in body.grants]
    replaced = await token_service.replace(
        db, token_id, body.name, grants, body.expires_at, operation.write_of(request)
    )
    _heard_here(request, token_id)
    return web.json_response(replaced)


async def delete_token(request: web.Request) -> web.Response:
    """Revokes the token at once on every worker; its sockets are closed with 4401."""
    db = _admin(request)
    token_id = operation.path_id(request, "token")
    await token_service.revoke(db, token_id, operation.write_of(request))
    _heard_here(request, token_id)
    return web.Response(status=204)


def _heard_here(request: web.Request, token_id: str) -> None:
    # This worker acts on its own change at once, without waiting for its NOTIFY to come
    # back (the next request on this worker must already see it; other workers hear it).
    request.app[revocation.REVOCATIONS].notified(token_id)


_TOKENS = f"{operation.PREFIX}/tokens"
Op = operation.Operation

OPERATIONS: tuple[Op, ...] = (
    Op("POST", _TOKENS, create_token, "Create a token", "tokens", 201,
       models.TokenIn, models.TokenCreated, errors=(400, 413, 415, 422), needs="admin"),
    Op("GET", _TOKENS, list_tokens, "List tokens", "tokens",
       response=models.TokenPage, query=("limit", "cursor"), errors=(422,),
       needs="admin"),
    # Before {id}: the router tries routes in the order they are added.
    Op("GET", f"{_TOKENS}/self", get_own_token, "Read the caller's own token",
       "tokens", response=models.Token, needs="token"),
    Op("GET", f"{_TOKENS}/{{id}}", get_token, "Read a token", "tokens",
       response=models.Token, errors=(404,), needs="admin"),
    Op("PUT", f"{_TOKENS}/{{id}}", replace_token, "Replace a token", "tokens",
       200, models.TokenReplace, models.Token, errors=(400, 404, 413, 415, 422),
       needs="admin"),
    Op("DELETE", f"{_TOKENS}/{{id}}", delete_token, "Revoke a token", "tokens",
       204, errors=(404, 422), needs="admin"),
)  # fmt: skip
