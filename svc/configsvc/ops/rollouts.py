"""Rollouts in the running service: the scheduler that advances them on whichever worker is
alive, the hook that counts rejections as they arrive, and their metrics.

Every worker runs a :class:`Scheduler`; the rollout's row lock (``FOR UPDATE SKIP LOCKED``)
decides which one advances it, so a rollout survives any worker's death and a restart: its
state and its deadline (``due_at``) are in PostgreSQL. A rollout entry heard by the hub wakes
the scheduler early (a new rollout with a short hold); otherwise it looks once a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.db import database
from configsvc.live import feed, follow, peer
from configsvc.ops import metrics
from configsvc.service import rollouts
from configsvc.store import changes
from configsvc.store import rollouts as store

log = logging.getLogger(__name__)

POLL_S = 1.0
MAX_BACKOFF_S = 30.0


def counted(state: str) -> None:
    """Count a state change made by this worker."""
    if state == "aborted":
        metrics.ROLLOUT_ABORTS.inc()


async def gauge(conn: database.Connection) -> None:
    """Rollouts by state, as PostgreSQL holds them."""
    found = await store.by_state(conn)
    for state in metrics.ROLLOUT_STATES:
        metrics.ROLLOUTS.labels(state).set(found.get(state, 0))


class Scheduler:
    """This worker's share of advancing rollouts: every worker looks, the row lock decides."""

    def __init__(self, db: database.Database) -> None:
        self.db = db
        self.wake = asyncio.Event()

    def observe(self, entry: changes.Entry) -> None:
        if entry.op == "rollout":
            self.wake.set()

    async def _wait(self) -> None:
        async with self.db.connection() as conn:
            due_s = await store.next_due_s(conn)
            await gauge(conn)
        wait = POLL_S if due_s is None else min(POLL_S, max(due_s, 0.0))
        self.wake.clear()
        try:
            async with asyncio.timeout(wait):
                await self.wake.wait()
        except TimeoutError:
            pass

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                while (state := await rollouts.advance_due(self.db)) is not None:
                    counted(state)
                await self._wait()
                failures = 0
            except Exception as exc:  # a database outage, say: retry, never die silently
                failures += 1
                delay = min(MAX_BACKOFF_S, POLL_S * 2 ** min(failures, 5))
                log.warning("rollout scheduler failed (%d in a row, retrying in %.0fs): %r",
                            failures, delay, exc)  # fmt: skip
                await asyncio.sleep(delay)


def rejections(db: database.Database) -> feed.Counted:
    async def count(to: peer.Peer, message: models.Ack) -> None:
        for result in message.results:
            if result.status != "rejected":
                continue
            try:
                if await rollouts.rejected(
                    db, message.application_id, result.configuration_id, result.version,
                    to.client_id, to.labels, to.client_id or to.name, result.reason,
                ):  # fmt: skip
                    counted("aborted")
            except errors.ServiceError as exc:  # the ack itself was taken: log, do not refuse
                log.warning("could not count a rollout rejection: %s", exc)

    return count


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run this worker's scheduler while it serves (after the feed's: it hangs on its hub)."""
    scheduler = Scheduler(app[database.DB])
    app[follow.HUB].observers.append(scheduler.observe)
    app[feed.REJECTED] = rejections(app[database.DB])
    task = asyncio.create_task(scheduler.run(), name="rollout scheduler")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
