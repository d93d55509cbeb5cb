"""Every error leaves as RFC 9457 problem details, even a bug (as a 500 that says little)."""

from __future__ import annotations

from aiohttp import web

from configsvc import errors
from configsvc.api import problems


async def test_service_errors_map_to_their_status(aiohttp_client) -> None:
    cases = {
        "/404": errors.NotFound("gone"),
        "/409": errors.Conflict("name 'x' taken"),
        "/412": errors.PreconditionFailed("moved on"),
        "/422": errors.Invalid([("a", "bad"), ("b.c", "worse")]),
        "/400": errors.BadRequest("not json"),
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

    resp = await client.get("/bug")
    assert resp.status == 500
    body = await resp.json(content_type=problems.CONTENT_TYPE)
    assert "oops" not in body["detail"], "internals stay in the log"
