"""Liveness and readiness, for load balancers and supervisors."""

from __future__ import annotations

from aiohttp import web

from configsvc.db import database
from configsvc.live import feed


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process runs and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers, the schema is current, the change listener is connected."""
    reasons = await database.problems(request.app[database.DB])
    follower = request.app[feed.LISTENER]
    if not follower.connected:
        reasons.append(follower.problem or "change listener is not connected to the database")
    if reasons:
        return web.json_response({"status": "unavailable", "reasons": reasons}, status=503)
    return web.json_response({"status": "ready"})
