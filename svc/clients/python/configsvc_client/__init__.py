"""A Python client for the configuration service: typed REST calls and a live, hot-reloading view.

Needs aiohttp, pydantic and the wire contract (``configsvc_contract``, the models) only::

    async with ConfigClient("http://127.0.0.1:8080") as client:
        async with client.watch("billing", cache_path="billing.json") as live:
            rate = live["limits"]["rate"]
            await live.changed()
"""

from __future__ import annotations

from configsvc_client.api import ConfigClient, Tagged
from configsvc_client.backoff import Backoff
from configsvc_client.errors import (
    ApiError,
    BadRequest,
    ClientError,
    Conflict,
    EventsOverflow,
    Gone,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unavailable,
    ValidationFailed,
    WatchClosed,
)
from configsvc_client.events import ChangeEvent, Rejection
from configsvc_client.live import LiveConfig
from configsvc_client.watch import Watch

__all__ = [
    "ApiError",
    "Backoff",
    "BadRequest",
    "ChangeEvent",
    "ClientError",
    "ConfigClient",
    "Conflict",
    "EventsOverflow",
    "Gone",
    "LiveConfig",
    "NotFound",
    "PreconditionFailed",
    "Rejection",
    "ServerError",
    "Tagged",
    "Unavailable",
    "ValidationFailed",
    "Watch",
    "WatchClosed",
]
