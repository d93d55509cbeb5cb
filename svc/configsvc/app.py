"""The application factory: wiring only."""

from __future__ import annotations

import logging

from aiohttp import web

from configsvc import settings as settings_mod
from configsvc.api import openapi, problems, routes
from configsvc.auth import guard
from configsvc.db import database
from configsvc.live import feed
from configsvc.ops import health, pruning

log = logging.getLogger(__name__)


def create_app(settings: settings_mod.Settings) -> web.Application:
    """Build the app; every resource it needs is opened and closed by its cleanup contexts."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[problems.middleware, guard.middleware],
    )
    app[settings_mod.SETTINGS] = settings
    app.cleanup_ctx.append(database.pool_ctx)
    app.cleanup_ctx.append(guard.guard_ctx)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    routes.add_routes(app)
    feed.setup(app)
    app.cleanup_ctx.append(pruning.pruner_ctx)
    openapi.add_routes(app)
    return app


def create_app_from_env() -> web.Application:
    """Entry point for gunicorn (``configsvc.app:create_app_from_env()``) in each worker."""
    settings = settings_mod.load()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
    )
    return create_app(settings)
