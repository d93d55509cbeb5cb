"""The web side of the metrics: the request middleware, ``GET /metrics`` and the pool gauges.

Apart from ``metrics.py`` (the definitions) because it needs the HTTP layer (problems, the
guard), which the layers below that count things must not load.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import platform
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

import prometheus_client
from aiohttp import web
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from configsvc import settings as settings_mod
from configsvc.api import problems
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.ops import gunicorn_conf, logs, metrics, processes

log = logging.getLogger(__name__)

POOL_SAMPLE_S = 1.0


class BuildInfo(Collector):
    """``configsvc_build_info{version, python} 1``: which release answers, for dashboards and
    for comparing instances during a rolling deploy. Made at scrape time, once per scrape."""

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "configsvc_build_info", "The configsvc release serving, always 1",
            labels=["version", "python"],
        )  # fmt: skip
        info.add_metric([VERSION, platform.python_version()], 1)
        yield info


def _version() -> str:
    try:
        return importlib.metadata.version("configsvc")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree not installed
        return "unknown"


VERSION = _version()


def _exposition() -> bytes:
    registry = prometheus_client.CollectorRegistry()
    registry.register(BuildInfo())
    directory = os.environ.get(gunicorn_conf.MULTIPROC_ENV)
    if not directory:  # one process (tests, an app run in-process): its own metrics
        return prometheus_client.generate_latest(prometheus_client.REGISTRY) + (
            prometheus_client.generate_latest(registry)
        )
    multiprocess.MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    registry.register(processes.ProcessTree())
    return prometheus_client.generate_latest(registry)


async def scrape(request: web.Request) -> web.Response:
    """The metrics of every worker, in Prometheus' text format."""
    if not request.app[settings_mod.SETTINGS].metrics_public:
        access.require_metrics(guard.caller(request))  # the token was checked by the guard
    # Reading every worker's files is blocking file I/O: off the event loop.
    body = await asyncio.to_thread(_exposition)
    return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})


# The labelled children a request needs, looked up once (prometheus-client's own lookup takes
# a lock every time). Bounded: methods come from clients, and past the bound nothing is kept.
_CHILDREN: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_CHILDREN_MAX = 1000


def _children(route: str, method: str, status: int) -> tuple[Any, Any]:
    found = _CHILDREN.get((route, method, status))
    if found is None:
        found = (metrics.HTTP_REQUESTS.labels(route, method, str(status)),
                 metrics.HTTP_DURATION.labels(route, method))  # fmt: skip
        if len(_CHILDREN) < _CHILDREN_MAX:
            _CHILDREN[(route, method, status)] = found
    return found


@web.middleware
async def middleware(request: web.Request, handler: problems.Handler) -> web.StreamResponse:
    """Count and time every request by its route template, never its raw path; and log it at
    DEBUG (one middleware, one clock, for both)."""
    started = time.perf_counter()
    status = problems.CLIENT_CLOSED
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # a 304, say: problems.py turns only errors into responses
        status = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        requests, duration = _children(route, request.method, status)
        requests.inc()
        if status in metrics.REFUSALS:
            metrics.AUTH_REFUSALS.labels(metrics.REFUSALS[status]).inc()
        duration.observe(time.perf_counter() - started)
        logs.request_done(request, status, started)


async def _sample_pool(db: database.Database) -> None:
    # Sampled, not counted at every acquire: the pool lives in db/, below this layer.
    while True:
        try:
            size = db.pool.get_size()
            metrics.POOL_SIZE.set(size)
            metrics.POOL_IN_USE.set(size - db.pool.get_idle_size())
        except Exception:  # never expected; a stale gauge must not end the sampling
            log.exception("sampling the pool failed")
        await asyncio.sleep(POOL_SAMPLE_S)


async def pool_gauges_ctx(app: web.Application) -> AsyncIterator[None]:
    """Keep this worker's pool gauges current while it serves."""
    task = asyncio.create_task(_sample_pool(app[database.DB]), name="pool gauges")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", scrape)
    app.cleanup_ctx.append(pool_gauges_ctx)
