"""Prometheus metrics: their definitions, the request middleware and ``GET /metrics``.

Under ``python -m configsvc`` every gunicorn worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode) and a scrape, answered
by any worker, adds them up (gunicorn_conf.py marks a dead worker's live gauges gone and
removes the directory when the server exits). Labels never carry ids: only route
templates, methods, statuses and reasons, so the series stay few.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import platform
import time
import typing
from collections.abc import AsyncIterator, Iterable
from typing import Any

import prometheus_client
from aiohttp import web
from configsvc_client import models
from prometheus_client import Counter, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from configsvc import settings as settings_mod
from configsvc.api import problems
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.ops import gunicorn_conf, logs, processes

log = logging.getLogger(__name__)

POOL_SAMPLE_S = 1.0
# Refusals by reason, as the answers show them (a target hidden as 404 is not counted apart).
REFUSALS = {401: "unauthenticated", 403: "forbidden"}

HTTP_REQUESTS = Counter(
    "configsvc_http_requests", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_DURATION = Histogram(
    "configsvc_http_request_duration_seconds", "Time to answer an HTTP request",
    ["route", "method"],
)  # fmt: skip
WS_CONNECTIONS = Gauge(
    "configsvc_ws_connections", "Open feed WebSockets", multiprocess_mode="livesum"
)
WS_SUBSCRIPTIONS = Gauge(
    "configsvc_ws_subscriptions", "Live feed subscriptions", multiprocess_mode="livesum"
)
WS_FRAMES = Counter("configsvc_ws_frames_sent", "Feed frames handed to sockets")
WS_SLOW_CLOSES = Counter(
    "configsvc_ws_slow_consumer_closes", "Sockets closed with 4008 for not reading"
)
FEED_RESETS = Counter(
    "configsvc_feed_resets", "Times a worker told all its subscribers to resubscribe",
    ["reason"],
)  # fmt: skip
FEED_HEAD = Gauge(
    "configsvc_feed_head_revision", "Latest committed revision seen by the worker's listener",
    multiprocess_mode="livemax",
)  # fmt: skip
FEED_DISPATCHED = Gauge(
    "configsvc_feed_dispatched_revision", "Highest revision dispatched, per worker",
    multiprocess_mode="liveall",
)  # fmt: skip
FEED_PROPAGATION = Histogram(
    "configsvc_feed_propagation_seconds", "From a change's commit to its dispatch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
LISTENER_RECONNECTS = Counter(
    "configsvc_listener_reconnects", "Change listener connections after the first"
)
POOL_SIZE = Gauge("configsvc_db_pool_size", "Pooled connections open", multiprocess_mode="livesum")
POOL_IN_USE = Gauge(
    "configsvc_db_pool_in_use", "Pooled connections lent out", multiprocess_mode="livesum"
)
AUTH_REFUSALS = Counter(
    "configsvc_auth_refusals", "Requests refused for want of access", ["reason"]
)
READ_CACHE_LOOKUPS = Counter(
    "configsvc_read_cache_lookups", "GETs the read cache answered (hit) or not (miss)",
    ["result"],
)  # fmt: skip
READ_CACHE_EVICTIONS = Counter(
    "configsvc_read_cache_evictions", "Entries evicted to keep READ_CACHE_MAX_MB"
)
READ_CACHE_BYTES = Gauge(
    "configsvc_read_cache_bytes", "Bytes the read cache counts as held", multiprocess_mode="livesum"
)
CLIENT_ACKS = Counter("configsvc_client_acks", "Configuration results clients acked", ["status"])

# Every series whose label values are known is there from the start, at 0: a rate() or an
# alert on it then works before its first event (a series that appears later is missed by
# increase() for its first event, and absent() cannot tell "none yet" from "not scraped").
KNOWN_LABELS: list[tuple[Counter, tuple[str, ...]]] = [
    (FEED_RESETS, ("rewound", "pruned", "listener_failed")),
    (AUTH_REFUSALS, tuple(REFUSALS.values())),
    (READ_CACHE_LOOKUPS, ("hit", "miss")),
    (CLIENT_ACKS, typing.get_args(models.AckResult.model_fields["status"].annotation)),
]


def _start_at_zero() -> None:
    for counter, values in KNOWN_LABELS:
        for value in values:
            counter.labels(value)


_start_at_zero()


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


async def metrics(request: web.Request) -> web.Response:
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
        found = (HTTP_REQUESTS.labels(route, method, str(status)),
                 HTTP_DURATION.labels(route, method))  # fmt: skip
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
        if status in REFUSALS:
            AUTH_REFUSALS.labels(REFUSALS[status]).inc()
        duration.observe(time.perf_counter() - started)
        logs.request_done(request, status, started)


async def _sample_pool(db: database.Database) -> None:
    # Sampled, not counted at every acquire: the pool lives in db/, below this layer.
    while True:
        try:
            size = db.pool.get_size()
            POOL_SIZE.set(size)
            POOL_IN_USE.set(size - db.pool.get_idle_size())
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
    app.router.add_get("/metrics", metrics)
    app.cleanup_ctx.append(pool_gauges_ctx)


# Progressive delivery (service/rollouts.py). By state: what PostgreSQL holds, read by every
# worker's scheduler (ops/rollouts.py), so any worker's scrape agrees; aborts: counted by the
# worker that aborted, summed over the workers.
ROLLOUT_STATES = ("running", "promoted", "aborted", "cancelled")
ROLLOUTS = Gauge("configsvc_rollouts", "Rollouts by state", ["state"], multiprocess_mode="livemax")
ROLLOUT_ABORTS = Counter("configsvc_rollout_aborts", "Rollouts aborted (by rejections or asked)")
for _state in ROLLOUT_STATES:
    ROLLOUTS.labels(_state).set(0)
