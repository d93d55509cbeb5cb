"""Liveness and readiness, for load balancers and supervisors."""

from __future__ import annotations

import time

from aiohttp import web

from configsvc.db import database
from configsvc.live import follow

# After a worker found the database on another history (a failover that lost changes), it
# says so for a moment: its subscribers are starting over, and an operator should look.
DIVERGED_S = 5.0
DIVERGED = (
    "the change history changed under this worker (a failover lost committed changes?): "
    "subscribers and the read cache were reset"
)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process runs and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers, the schema is current, the change listener is connected."""
    reasons = await database.problems(request.app[database.DB])
    follower = request.app[follow.LISTENER]
    if not follower.connected:
        reasons.append(follower.problem or "change listener is not connected to the database")
    elif follower.diverged_at is not None and time.monotonic() - follower.diverged_at < DIVERGED_S:
        reasons.append(DIVERGED)
    if reasons:
        return web.json_response({"status": "unavailable", "reasons": reasons}, status=503)
    return web.json_response({"status": "ready"})
