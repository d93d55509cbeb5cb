"""The application factory: wiring only."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from configsvc import settings as settings_mod
from configsvc.api import console, edge, gate, openapi, problems, requestid, routes
from configsvc.auth import guard
from configsvc.db import database
from configsvc.live import feed, follow
from configsvc.ops import bootstrap, connections, health, logs, metrics_web, pruning, rollouts
from configsvc.service import validators

log = logging.getLogger(__name__)

# How long gunicorn lets a worker finish its requests at shutdown (its --graceful-timeout).
GRACEFUL_TIMEOUT_S = 10


async def validators_ctx(app: web.Application) -> AsyncIterator[None]:
    """The worker's compiled JSON Schemas, told by the change listener when a schema changes."""
    cache = validators.Validators()
    app[validators.VALIDATORS] = cache
    # Without the feed nothing tells it: entries are keyed by version, a stale one is never used.
    fanout = app.get(follow.HUB)
    if fanout is not None:
        fanout.observers.append(cache.changed)
    yield
    if fanout is not None:
        fanout.observers.remove(cache.changed)


def create_app(settings: settings_mod.Settings) -> web.Application:
    """Build the app; every resource it needs is opened and closed by its cleanup contexts."""
    # The request id first, so every response (errors too) and every log line carries it.
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            requestid.middleware,
            metrics_web.middleware,  # logs each request too
            problems.middleware,
            edge.middleware,
            gate.middleware,
        ],
    )
    app[settings_mod.SETTINGS] = settings
    edge.setup(app, settings)
    app.cleanup_ctx.append(database.pool_ctx)
    app.cleanup_ctx.append(guard.guard_ctx)
    app.cleanup_ctx.append(bootstrap.bootstrap_ctx)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    routes.add_routes(app)
    feed.setup(app)
    app.cleanup_ctx.append(validators_ctx)  # after the feed's: it hangs on the feed's hub
    app.cleanup_ctx.append(pruning.pruner_ctx)
    app.cleanup_ctx.append(rollouts.scheduler_ctx)
    openapi.add_routes(app)
    console.add_routes(app)
    metrics_web.setup(app)
    return app


def create_app_from_env() -> web.Application:
    """The app from the environment's settings, with logging set up as they say."""
    settings = settings_mod.load()
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)


async def create_runner_from_env() -> web.AppRunner:
    """Entry point for gunicorn (``configsvc.app:create_runner_from_env``) in each worker.

    A runner rather than an app, so that the worker's server caps its connections. No aiohttp
    access log: at DEBUG the metrics middleware logs each request (``logs.request_done``),
    once, with its request id, route and redacted query; aiohttp's would log it again after
    the request's context is gone (request id ``-``) with the query string verbatim.
    """
    app = create_app_from_env()
    settings = app[settings_mod.SETTINGS]
    return connections.CappedRunner(
        app,
        settings.max_connections,
        keepalive_timeout=settings.keepalive_timeout_s,
        access_log=None,
        shutdown_timeout=GRACEFUL_TIMEOUT_S * 0.95,
    )
