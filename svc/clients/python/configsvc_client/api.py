"""``ConfigClient``: typed calls for every REST endpoint of the configuration service.

The calls are grouped by what they act on, one module each (``applications``,
``configurations``, ``history``, ``schemas``), over the HTTP side in ``transport``; this class
is all of them together, with the live feed (``watch``).
"""

from __future__ import annotations

from typing import Any

from configsvc_client import applications, configurations, history, schemas
from configsvc_client import backoff as backoff_mod
from configsvc_client import watch as watch_mod
from configsvc_client.replies import Tagged
from configsvc_client.transport import API, MIN_REVISION_HEADER, REVISION_HEADER

# The names this module had when it held every call (``from configsvc_client.api import ...``).
__all__ = ["API", "MIN_REVISION_HEADER", "REVISION_HEADER", "ConfigClient", "Tagged"]


class ConfigClient(
    applications.Applications, configurations.Configurations, history.History, schemas.Schemas
):
    """An HTTP client for ``base_url`` (e.g. ``http://127.0.0.1:8080``).

    Every call has a ``timeout`` (seconds, whole request). GET, PUT and DELETE are retried up to
    ``retries`` times, with jittered exponential backoff, on connection errors, timeouts and
    502/503/504; POST is never retried. Use as ``async with ConfigClient(url) as client:``, or
    call ``close()``. A ``session`` passed in is used and left open. ``token``: the secret
    sent as ``Authorization: Bearer`` on every call and on the feed (default: the
    ``CONFIGSVC_TOKEN`` environment variable).

    A retried DELETE, or PUT with ``if_match``, whose first attempt did reach the database but
    whose answer was lost, ends in ``NotFound`` or ``PreconditionFailed``: read the resource
    again to tell.

    ``revision`` is the newest revision this client has written or seen (``Config-Revision``
    of every response, the revisions of its watches' feeds). With ``read_your_writes`` (the
    default) every GET sends it as ``Config-Min-Revision``, so whichever worker answers, the
    client never reads a state older than one it has already written or seen.
    """

    async def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI document."""
        body: dict[str, Any] = (await self._call("GET", f"{API}/openapi.json")).body
        return body

    def watch(
        self,
        application: str,
        *,
        cache_path: str | None = None,
        validate: watch_mod.Validator | None = None,
        backoff: backoff_mod.Backoff | None = None,
        start_timeout: float | None = 30.0,
        heartbeat: float = 30.0,
    ) -> watch_mod.Watch:
        """A live view of an application's configurations: ``async with client.watch(app)``.

        ``application`` is its id (26-character ULID) or its name. ``cache_path``: the
        last-known-good file to keep and to start from when the service is unreachable.
        ``validate(name, config)``: return False or raise to reject a new config. ``backoff``:
        reconnect delays (default 0.5 s doubling to 30 s, full jitter). ``start_timeout``: how
        long entering waits for the first snapshot when there is no cache. See ``watch.Watch``.
        """
        return watch_mod.Watch(
            self,
            application,
            cache_path=cache_path,
            validate=validate,
            backoff=backoff,
            start_timeout=start_timeout,
            heartbeat=heartbeat,
        )
