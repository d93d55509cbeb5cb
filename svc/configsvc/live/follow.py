"""This worker's change stream and everything that follows it, started and stopped with the app.

One :class:`listener.Listener` owns the stream: it holds the position (the revision dispatched
and the identity of the entry there, so a failover to another history is noticed) and drives
one lifecycle for every consumer, in this order:

- *apply*: each committed entry, in revision order, goes to the read cache, then to the hub
  (the subscribers); nothing else reads the log;
- *lost*: the moment the connection drops, every follower (the read cache, the token cache)
  stops answering from memory: reads and token checks go to the database until it is back;
- *following*: after a reconnect, the revocation loop re-checks every socket's token
  (revokes may have gone unheard), then the catch-up from the log, then the followers
  answer from memory again;
- *reset*: when the log cannot say what was missed (pruned, rewound, another history), the
  subscribers are told to start over and the read cache is dropped.

The schema cache (service/validators.py) hears schema changes as an observer of the hub's
dispatch, wired by app.py since live/ does not import service/; its entries are keyed by
version, so a lost stream can make it keep one longer, never use a stale one.

The token channel goes to the revocation loop, which closes the sockets of a revoked token
(and re-checks those registered after a revoke started). If the listener gives up (a bug, not
an outage), the worker exits so that its supervisor starts a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, web

from configsvc import settings as settings_mod
from configsvc.auth import guard
from configsvc.db import database
from configsvc.live import cache, hub, listener, revocation
from configsvc.store import changes

log = logging.getLogger(__name__)

HUB: web.AppKey[hub.Hub] = web.AppKey("hub", hub.Hub)
LISTENER: web.AppKey[listener.Listener] = web.AppKey("listener", listener.Listener)


def _exit_if_dead(task: asyncio.Task[None]) -> None:
    # The listener only ends when it cannot recover: a worker whose subscribers would hear
    # nothing more must go, so that its supervisor (gunicorn) starts a fresh one.
    if not task.cancelled() and task.exception() is not None:
        log.critical("%s died; stopping this worker", task.get_name(), exc_info=task.exception())
        os.kill(os.getpid(), signal.SIGTERM)


async def follow_ctx(app: web.Application) -> AsyncIterator[None]:
    """The hub, the read cache and the listener of this worker; the listener is stopped and
    awaited at cleanup."""
    settings = app[settings_mod.SETTINGS]
    assert settings.database_url is not None
    fanout = hub.Hub()
    revoker = revocation.Revocations(app[guard.GUARD], fanout)
    reads = cache.ReadCache(int(settings.read_cache_max_mb * 1024 * 1024))
    follower = listener.Listener(
        settings.listen_database_url or settings.database_url, fanout,
        settings.listener_probe_s, settings.listener_max_failures, revoker.notified, reads,
        followers=(app[guard.GUARD].cache,), before_catch_up=revoker.recheck_all,
    )  # fmt: skip
    app[HUB], app[LISTENER], app[cache.CACHE] = fanout, follower, reads
    app[revocation.REVOCATIONS] = revoker
    # Follow from the revision current at start-up, before any subscriber can take a snapshot.
    async with app[database.DB].connection() as conn:
        follower.last, _ = await changes.counter(conn)
        follower.last_id = await changes.identity(conn, follower.last)
    reads.revision = follower.last
    tasks = [
        asyncio.create_task(follower.run(), name="change listener"),
        asyncio.create_task(revoker.run(), name="token revocations"),
    ]
    for task in tasks:
        task.add_done_callback(_exit_if_dead)
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def going_away(app: web.Application) -> None:
    """On shutdown, tell every client to reconnect elsewhere (1001) before the loop stops."""
    app[HUB].close_all(WSCloseCode.GOING_AWAY, "server shutting down")
