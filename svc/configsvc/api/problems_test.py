"""Every error leaves as RFC 9457 problem details, even a bug (as a 500 that says little)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from configsvc import app as app_mod
from configsvc import errors
from configsvc.api import problems


async def test_service_errors_map_to_their_status(aiohttp_client) -> None:
    cases = {
        "/404": errors.NotFound("gone"),
        "/409": errors.Conflict("name 'x' taken"),
        "/412": errors.PreconditionFailed("moved on"),
        "/422": errors.Invalid([("a", "bad"), ("b.c", "worse")]),
        "/400": errors.BadRequest("not json"),
        "/503": errors.Unavailable("ConnectionRefusedError: db.internal:5432"),
        "/500": errors.DatabaseError("SyntaxError: at or near SELEKT"),
    }

    def raiser(exc: Exception):  # type: ignore[no-untyped-def]
        async def handler(request: web.Request) -> web.Response:
            raise exc

        return handler

    app = web.Application(middlewares=[problems.middleware])
    for path, exc in cases.items():
        app.router.add_get(path, raiser(exc))
    app.router.add_get("/bug", raiser(ZeroDivisionError("oops")))
    client = await aiohttp_client(app)

    for path in cases:
        resp = await client.get(path)
        body = await resp.json(content_type=problems.CONTENT_TYPE)
        assert resp.status == body["status"] == int(path[1:])
        assert body["type"].startswith("urn:configsvc:problem:")
    body = await (await client.get("/422")).json(content_type=None)
    assert body["errors"] == [
        {"field": "a", "message": "bad"},
        {"field": "b.c", "message": "worse"},
    ]
    body = await (await client.get("/409")).json(content_type=None)
    assert body["errors"] == [{"field": "name", "message": "name 'x' taken"}]

    resp = await client.get("/503")
    assert resp.headers["Retry-After"] == "1"
    for path in ("/503", "/500"):
        detail = (await (await client.get(path)).json(content_type=None))["detail"]
        assert "5432" not in detail, "the driver's words stay in the log"
        assert "SELEKT" not in detail

    resp = await client.get("/bug")
    assert resp.status == 500
    body = await resp.json(content_type=problems.CONTENT_TYPE)
    assert "oops" not in body["detail"], "internals stay in the log"


async def test_a_client_that_drops_mid_body_is_not_a_database_outage(
    settings, caplog, admin_token
) -> None:
    """Served as gunicorn serves it (handlers not cancelled): the body read fails, nothing else."""
    runner = web.AppRunner(app_mod.create_app(settings), handler_cancellation=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        caplog.set_level(logging.DEBUG)
        _reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            b"POST /api/v1/applications HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n"
            + f"Authorization: Bearer {admin_token}\r\n".encode()
            + b'Content-Type: application/json\r\n\r\n{"name": "half'
        )
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        async with asyncio.timeout(10):
            while not any("client left" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session:
            resp = await session.get(
                f"http://{host}:{port}/api/v1/applications",
                headers={"Authorization": f"Bearer {admin_token}"},
            )
            assert (await resp.json())["items"] == [], "the half-sent application was not made"
    finally:
        await runner.cleanup()
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
