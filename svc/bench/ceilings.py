"""The ceilings: the least an aiohttp server on this stack can do for each kind of request.

``python -m bench.ceilings hello|fetchrow|update|broadcast --port P [--database-url URL]``

- ``hello``: a handler returning a constant small JSON.
- ``fetchrow``: one asyncpg fetch of a configuration row by primary key, returned as JSON.
- ``update``: ``PUT /configurations/{id}``: one asyncpg single-row UPDATE of its ``config``
  and ``version``, committed on its own (``synchronous_commit`` as the server has it: on). The
  write ceiling the service's PUT and POST are held against: the reference FastAPI service's
  source is not available to the bench (no internet), and this is the least such a write does.
- ``broadcast``: a bare WebSocket server; ``POST /publish`` sends the body to every socket.
  No queues, no per-subscriber bookkeeping: the fastest a broadcast can be, which is what the
  service's fan-out is held against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
import uvloop
from aiohttp import web

from configsvc.db import database

POOL: web.AppKey[asyncpg.Pool] = web.AppKey("pool", asyncpg.Pool)
SOCKETS = web.AppKey[set[web.WebSocketResponse]]("sockets")

HELLO = {"hello": "world"}
ROW_SQL = (
    "SELECT id, application_id, name, comments, config, version, revision, created_at,"
    " updated_at FROM configurations WHERE id = $1"
)


async def hello(request: web.Request) -> web.Response:
    return web.json_response(HELLO)


async def fetchrow(request: web.Request) -> web.Response:
    row = await request.app[POOL].fetchrow(ROW_SQL, request.match_info["id"])
    if row is None:
        raise web.HTTPNotFound()
    return web.json_response(dict(row), dumps=lambda obj: json.dumps(obj, default=str))


UPDATE_SQL = (
    "UPDATE configurations SET config = $2::jsonb, version = version + 1, updated_at = now()"
    " WHERE id = $1 RETURNING version"
)


async def update(request: web.Request) -> web.Response:
    body = await request.json()
    version = await request.app[POOL].fetchval(UPDATE_SQL, request.match_info["id"], body["config"])
    if version is None:
        raise web.HTTPNotFound()
    return web.json_response({"version": version})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    try:
        async for _ in ws:  # clients only subscribe; whatever they send is ignored
            pass
    finally:
        request.app[SOCKETS].discard(ws)
    return ws


async def publish(request: web.Request) -> web.Response:
    text = await request.text()
    sockets: set[web.WebSocketResponse] = request.app[SOCKETS]
    for ws in list(sockets):
        # Returns without suspending unless that socket's buffer is full.
        await ws.send_str(text)
    return web.json_response({"sent": len(sockets)})


def pool_ctx(url: str):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        app[POOL] = await asyncpg.create_pool(
            url, min_size=10, max_size=10, init=database.init_connection
        )
        yield
        await app[POOL].close()

    return ctx


async def sockets_ctx(app: web.Application) -> AsyncIterator[None]:
    app[SOCKETS] = set()
    yield
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=1001)


def create_app(kind: str, database_url: str | None = None) -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", hello)
    if kind == "hello":
        app.router.add_get("/hello", hello)
    elif kind == "fetchrow":
        if database_url is None:
            raise ValueError("fetchrow needs a database URL")
        app.cleanup_ctx.append(pool_ctx(database_url))
        app.router.add_get("/configurations/{id}", fetchrow)
    elif kind == "update":
        if database_url is None:
            raise ValueError("update needs a database URL")
        app.cleanup_ctx.append(pool_ctx(database_url))
        app.router.add_put("/configurations/{id}", update)
    elif kind == "broadcast":
        app.cleanup_ctx.append(sockets_ctx)
        app.router.add_get("/ws", websocket)
        app.router.add_post("/publish", publish)
    else:
        raise ValueError(f"unknown ceiling {kind!r}")
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceilings")
    parser.add_argument("kind", choices=["hello", "fetchrow", "update", "broadcast"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    app = create_app(args.kind, args.database_url)
    # Same event loop as the service's gunicorn worker (GunicornUVLoopWebWorker).
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
