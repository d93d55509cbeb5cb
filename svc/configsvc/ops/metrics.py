"""Prometheus metrics: their definitions, and the series known from the start.

Every layer that counts something imports this module, so it imports nothing of the service
(the request middleware and ``GET /metrics`` live in ``metrics_web.py``): otherwise importing
the listener, say, loaded the whole HTTP side. Under ``python -m configsvc`` every gunicorn
worker writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode) and a scrape, answered by any worker, adds them up (gunicorn_conf.py marks
a dead worker's live gauges gone and removes the directory when the server exits). Labels
never carry ids: only route templates, methods, statuses and reasons, so the series stay few.
"""

from __future__ import annotations

import typing

from configsvc_contract import models
from prometheus_client import Counter, Gauge, Histogram

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
# The group commit (db/group.py): how many writes share a COMMIT, and what sharing costs each.
WRITE_BATCH_SIZE = Histogram(
    "configsvc_write_batch_writes", "Writes committed together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)  # fmt: skip
WRITE_BATCH_WAIT = Histogram(
    "configsvc_write_batch_wait_seconds",
    "From a write's own work done to its batch's COMMIT: the others' work and the NOTIFY",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)  # fmt: skip
CLIENT_ACKS = Counter("configsvc_client_acks", "Configuration results clients acked", ["status"])

# Every series whose label values are known is there from the start, at 0: a rate() or an
# alert on it then works before its first event (a series that appears later is missed by
# increase() for its first event, and absent() cannot tell "none yet" from "not scraped").
KNOWN_LABELS: list[tuple[Counter, tuple[str, ...]]] = [
    (FEED_RESETS, ("rewound", "pruned", "diverged", "listener_failed", "unknown_op")),
    (AUTH_REFUSALS, tuple(REFUSALS.values())),
    (READ_CACHE_LOOKUPS, ("hit", "miss")),
    (CLIENT_ACKS, typing.get_args(models.AckResult.model_fields["status"].annotation)),
]


def _start_at_zero() -> None:
    for counter, values in KNOWN_LABELS:
        for value in values:
            counter.labels(value)


_start_at_zero()


# Progressive delivery (service/rollouts.py). By state: what PostgreSQL holds, read by every
# worker's scheduler (ops/rollouts.py), so any worker's scrape agrees; aborts: counted by the
# worker that aborted, summed over the workers.
ROLLOUT_STATES = ("running", "promoted", "aborted", "cancelled")
ROLLOUTS = Gauge("configsvc_rollouts", "Rollouts by state", ["state"], multiprocess_mode="livemax")
ROLLOUT_ABORTS = Counter("configsvc_rollout_aborts", "Rollouts aborted (by rejections or asked)")
for _state in ROLLOUT_STATES:
    ROLLOUTS.labels(_state).set(0)
