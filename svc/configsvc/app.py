"""The application factory: wiring only."""

from __future__ import annotations

from aiohttp import web

from configsvc import settings as settings_mod
from configsvc.api import openapi, problems, routes
from configsvc.db import database
from configsvc.live import feed
from configsvc.ops import health, logs, metrics, pruning


def create_app(settings: settings_mod.Settings) -> web.Application:
    """Build the app; every resource it needs is opened and closed by its cleanup contexts."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[logs.middleware, metrics.middleware, problems.middleware],
    )
    app[settings_mod.SETTINGS] = settings
    app.cleanup_ctx.append(database.pool_ctx)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    routes.add_routes(app)
    feed.setup(app)
    app.cleanup_ctx.append(pruning.pruner_ctx)
    openapi.add_routes(app)
    metrics.setup(app)
    return app


def create_app_from_env() -> web.Application:
    """Entry point for gunicorn (``configsvc.app:create_app_from_env()``) in each worker."""
    settings = settings_mod.load()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)
