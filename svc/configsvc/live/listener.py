"""The change listener: one dedicated connection per worker, LISTENing for wake-up calls.

NOTIFY only says "something was committed"; the log says what. After every (re)connect the
listener first catches up from the log, from the last revision it dispatched, so a notification
lost while it was away costs latency, never a change. It is not a pooled connection: releasing
one to the pool runs UNLISTEN *.

It also hears the tokens channel (payload: a token id) and hands each id to ``on_token``; after
every (re)connect it calls ``on_token(None)``: tokens may have changed unheard meanwhile.

What this worker answers from memory (the read cache, the token cache) is only as current as
this listener: each is told :meth:`following` once the listener hears and has caught up, and
:meth:`lost` the moment the connection is lost, so that meanwhile they answer from the
database. The log is read in REPEATABLE READ transactions: the prune mark and the entries
come from one snapshot, so a prune in between cannot silently lose entries.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import asyncpg

from configsvc import errors
from configsvc.db import failures
from configsvc.live import cache as cache_mod
from configsvc.live import hearing, hub
from configsvc.ops import metrics, outage
from configsvc.store import changes
from configsvc.store import tokens as token_store

log = logging.getLogger(__name__)

BATCH = 1000
CLOSE_SERVICE_RESTART = hub.CLOSE_SERVICE_RESTART
# How operators (and tests) find the listener backends in pg_stat_activity.
APPLICATION_NAME = "configsvc-listener"


# How long a reconnect waits for the sockets' tokens to be re-checked before catching up.
RECHECK_TIMEOUT_S = 10.0

# Entries dispatched between two yields to the event loop during a long catch-up, so that
# requests and sockets of this worker are served meanwhile.
YIELD_EVERY = 100


class Follower(Protocol):
    """Memory that must stop answering while the change stream is lost."""

    def following(self) -> None: ...
    def lost(self) -> None: ...


class GaveUp(Exception):
    """The listener failed too often in a row for a reason other than the database."""


class Listener:
    """Reads the change log in revision order and hands every entry to the hub.

    A database failure is an outage: retried with backoff for as long as it lasts. Any other
    failure is a bug or bad data: logged and retried, and after ``max_failures`` in a row
    every subscriber is told to go elsewhere (1012) and :meth:`run` raises :class:`GaveUp`.
    Token notifications go to ``on_token`` (with None after every reconnect: some were lost),
    and ``before_catch_up`` is awaited after every reconnect, before the catch-up.
    ``cache`` (this worker's read cache) gets every entry before the hub, serves only while
    the listener is connected and caught up, and is dropped at every reset.
    """

    def __init__(
        self, url: str, fanout: hub.Hub, probe_s: float, max_failures: int = 5,
        on_token: Callable[[str | None], None] | None = None,
        cache: cache_mod.ReadCache | None = None, followers: tuple[Follower, ...] = (),
        before_catch_up: Callable[[], Awaitable[None]] | None = None,
    ) -> None:  # fmt: skip
        self.url, self.hub, self.probe_s = url, fanout, probe_s
        self.cache = cache if cache is not None else cache_mod.ReadCache(0)
        self.followers: tuple[Follower, ...] = (self.cache, *followers)
        self.max_failures = max_failures
        self.on_token = on_token
        self.before_catch_up = before_catch_up
        self.connected = False
        # Why it is not connected when that is not an outage (for /readyz), else None.
        self.problem: str | None = None
        self.last: int | None = None  # highest revision dispatched
        self.last_id: str | None = None  # the identity of the entry at ``last``
        self.diverged_at: float | None = None  # when a different history was last found
        self._verify = True  # check last_id at the next catch-up (after every reconnect)
        self._wake = asyncio.Event()
        self._backoff = 0.1
        self._failures = 0
        self._outage = outage.Outage(log, "change listener")
        self._sessions = 0

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        self._wake.set()

    def _on_token(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if self.on_token is not None:
            self.on_token(payload)

    def _on_lost(self, conn: object) -> None:
        self._lost()
        self._wake.set()

    def _lost(self) -> None:
        self.connected = False
        for each in self.followers:
            each.lost()

    async def run(self) -> None:
        """Connect, catch up, follow; after a failure, back off and start over."""
        if self.last is not None:
            # A new worker is as current as the revision it starts from, not 0: without this a
            # scrape before its first catch-up showed it thousands of revisions behind.
            metrics.FEED_HEAD.set(self.last)
            metrics.FEED_DISPATCHED.set(self.last)
        while True:
            try:
                with failures.classified():
                    await self._session()
            except errors.Unavailable as exc:
                self.problem = None
                self._outage.failed(exc)
            except hearing.NotHeard as exc:
                self.problem = str(exc)
                self._failed()
            except Exception as exc:
                self.problem = f"the change listener failed: {exc.__class__.__name__}"
                self._failed()
            self._lost()
            await asyncio.sleep(self._backoff * random.uniform(0.5, 1.0))  # noqa: S311
            self._backoff = min(self._backoff * 2, 5.0)

    def _failed(self) -> None:
        self._failures += 1
        log.exception("change listener failed (%d of %d)", self._failures, self.max_failures)
        if self._failures >= self.max_failures:
            metrics.FEED_RESETS.labels("listener_failed").inc()
            self.hub.close_all(CLOSE_SERVICE_RESTART, "the change feed failed; resubscribe")
            raise GaveUp(f"the change listener failed {self._failures} times in a row")

    async def _session(self) -> None:
        self._verify = True
        conn: asyncpg.Connection = await asyncpg.connect(
            self.url, timeout=5, server_settings={"application_name": APPLICATION_NAME}
        )
        self._sessions += 1
        if self._sessions > 1:
            metrics.LISTENER_RECONNECTS.inc()
        try:
            conn.add_termination_listener(self._on_lost)
            await conn.add_listener(changes.CHANNEL, self._on_notify)
            await conn.add_listener(token_store.CHANNEL, self._on_token)
            if not await hearing.hears(conn, self.url):
                raise hearing.NotHeard(hearing.NOT_HEARD)
            if self.on_token is not None:
                self.on_token(None)
            if self.before_catch_up is not None:
                # Sockets whose token was revoked while nothing was heard are closed before
                # the catch-up sends them what they missed (bounded: then an outage).
                async with asyncio.timeout(RECHECK_TIMEOUT_S):
                    await self.before_catch_up()
            await self._catch_up(conn)
            self.connected, self._backoff, self._failures = True, 0.1, 0
            self.problem = None
            for each in self.followers:
                each.following()
            if self._outage.since is None:
                log.info("change listener connected at revision %s", self.last)
            self._outage.ok()
            while not conn.is_closed():
                try:
                    async with asyncio.timeout(self.probe_s):
                        await self._wake.wait()
                except TimeoutError:
                    # Quiet for a while: make sure the connection is alive (a half-open TCP
                    # connection would otherwise look like a quiet database forever).
                    async with asyncio.timeout(self.probe_s):
                        await conn.fetchval("SELECT 1")
                self._wake.clear()
                await self._catch_up(conn)
        finally:
            self._lost()
            conn.terminate()

    async def _check_head(self, conn: asyncpg.Connection) -> int:
        """Make sure the log still holds everything after ``last`` and nothing rewrote it."""
        latest, pruned_through = await changes.counter(conn)
        if self.last is None:
            self.last = self.cache.revision = latest
        elif latest < self.last:
            # A failover to a replica that lagged, or a restore: revisions after the head
            # will be reused for other changes. Subscribers start over from a snapshot.
            log.error("revision went back from %s to %s; resetting subscribers", self.last, latest)
            self._reset(latest, "the change history was rewound; resubscribe", "rewound")
        elif pruned_through > self.last:
            # Away so long that the log no longer holds what was missed.
            log.error("change log pruned past revision %s; resetting subscribers", self.last)
            self._reset(latest, "missed changes were pruned; resubscribe", "pruned")
        elif self._verify and not await self._same_history(conn, pruned_through):
            # A failover to a standby that lagged, and writes on it since: the counter is past
            # our head again, but the entry there is another change (or none). What we sent
            # and cached came from a history that exists nowhere any more.
            log.error(
                "the change log's entry at revision %s is not the one this worker dispatched "
                "(a failover lost it?); resetting subscribers and the read cache", self.last,
            )  # fmt: skip
            self.diverged_at = time.monotonic()
            self._reset(latest, "the change history changed (failover); resubscribe", "diverged")
        else:
            self._verify = False
            return latest
        self._verify = False
        self.last_id = await changes.identity(conn, latest)
        return latest

    async def _same_history(self, conn: asyncpg.Connection, pruned_through: int) -> bool:
        assert self.last is not None
        if self.last == 0 or self.last_id is None:
            return True  # nothing dispatched yet, or its identity unknown
        found = await changes.identity(conn, self.last)
        if found is None:
            return pruned_through >= self.last  # pruned is fine; missing is another history
        return found == self.last_id

    def _reset(self, latest: int, reason: str, cause: str) -> None:
        metrics.FEED_RESETS.labels(cause).inc()
        self.hub.close_all(CLOSE_SERVICE_RESTART, reason)
        self.cache.drop(latest)
        self.last = latest

    async def _catch_up(self, conn: asyncpg.Connection) -> None:
        while await self._catch_up_batch(conn):
            pass

    async def _catch_up_batch(self, conn: asyncpg.Connection) -> bool:
        """Dispatch up to BATCH entries after ``last``; whether there may be more."""
        # The prune mark and the entries from one snapshot: a prune committed between two
        # statements would otherwise remove entries after the check said they were there.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            latest = await self._check_head(conn)
            assert self.last is not None
            batch = await changes.after(conn, self.last, BATCH)
        for at in range(0, len(batch), YIELD_EVERY):
            chunk = batch[at : at + YIELD_EVERY]
            for entry in chunk:
                self.cache.apply(entry)
            await self.hub.dispatch(chunk)  # bursts of one application go out together
            self.last, self.last_id = chunk[-1].revision, chunk[-1].entry_id
            for entry in chunk:
                _observe(entry)
            await asyncio.sleep(0)
        if len(batch) == BATCH:
            return True
        # Head and dispatched side by side: their difference is this worker's lag.
        metrics.FEED_HEAD.set(max(latest, self.last))
        metrics.FEED_DISPATCHED.set(self.last)
        return False


def _observe(entry: changes.Entry) -> None:
    if entry.committed_at is not None:
        now = datetime.datetime.now(datetime.UTC)
        metrics.FEED_PROPAGATION.observe(max(0.0, (now - entry.committed_at).total_seconds()))
