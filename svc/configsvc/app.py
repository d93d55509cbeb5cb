"""The application factory and the health endpoints."""

from __future__ import annotations

import logging

from aiohttp import web

from configsvc import api, database, feed, problems
from configsvc import settings as settings_mod

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process runs and its event loop answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the database answers, the schema is current, the change listener is connected."""
    reasons = await database.problems(request.app[database.POOL])
    if not request.app[feed.LISTENER].connected:
        reasons.append("change listener is not connected to the database")
    if reasons:
        return web.json_response({"status": "unavailable", "reasons": reasons}, status=503)
    return web.json_response({"status": "ready"})


def create_app(settings: settings_mod.Settings) -> web.Application:
    """Build the app; every resource it needs is opened and closed by its cleanup contexts."""
    app = web.Application(
        client_max_size=settings.max_body_bytes, middlewares=[problems.middleware]
    )
    app[settings_mod.SETTINGS] = settings
    app.cleanup_ctx.append(database.pool_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    api.add_routes(app)
    feed.setup(app)
    return app


def create_app_from_env() -> web.Application:
    """Entry point for gunicorn (``configsvc.app:create_app_from_env()``) in each worker."""
    settings = settings_mod.load()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    return create_app(settings)
