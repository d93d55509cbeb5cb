"""A Python client for the configuration service: typed REST calls and a live, hot-reloading view.

Needs aiohttp and pydantic only::

    async with ConfigClient("http://127.0.0.1:8080") as client:
        async with client.watch("billing", cache_path="billing.json") as live:
            rate = live["limits"]["rate"]
            await live.changed()
"""

from __future__ import annotations

from configsvc.client.api import ConfigClient, Tagged
from configsvc.client.backoff import Backoff
from configsvc.client.errors import (
    ApiError,
    BadRequest,
    ClientError,
    Conflict,
    EventsOverflow,
    NotFound,
    PreconditionFailed,
    ServerError,
    Unavailable,
    ValidationFailed,
    WatchClosed,
)
from configsvc.client.events import ChangeEvent, Rejection
from configsvc.client.live import LiveConfig
from configsvc.client.watch import Watch

__all__ = [
    "ApiError",
    "Backoff",
    "BadRequest",
    "ChangeEvent",
    "ClientError",
    "ConfigClient",
    "Conflict",
    "EventsOverflow",
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
