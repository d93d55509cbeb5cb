"""Group commit: concurrent units of work share one transaction and one COMMIT (one WAL flush).

Each unit runs in its own savepoint, in the order it arrived, so one unit's failure (a 412, a
422, a unique violation) rolls back that unit only and is handed to its caller at once; the
others commit together. A caller is answered only after the COMMIT that made its work durable
returned. Nobody waits for company: the first unit starts a batch at once, and what arrives
while that batch runs joins it, or the next one, until the batch holds ``max_units`` units or
``max_bytes`` bytes (as the units report them) or has run ``max_s`` seconds.

There is no long-lived task: a burst starts one drain task, which ends when the queue is empty.
The queue is bounded too: past ``max_queued`` waiting units a caller is told to retry (503).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

from configsvc import errors
from configsvc.db.failures import classified, dead
from configsvc.ops import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
# A unit of work: run inside the shared transaction, returns its value and its size in bytes.
Work = Callable[[asyncpg.Connection], Awaitable[tuple[T, int]]]
# Run once per batch before its COMMIT, with the values of the units that succeeded.
Finish = Callable[[asyncpg.Connection, list[Any]], Awaitable[None]]
# Where a batch gets its connection: ``Database.connection``. The database holds the queue,
# so the queue is given that method, not the database (which would import this module back).
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]

COMMIT_UNKNOWN = (
    "the database connection was lost while the write committed: it may or may not have "
    "taken effect; read it back, or retry with If-Match (safe: a retry of a write that did "
    "commit is refused with 412)"
)


@dataclass(eq=False, slots=True)
class _Unit(Generic[T]):
    work: Work[T]
    finish: Finish
    done: asyncio.Future[T]
    worked_at: float = 0.0  # when its work was done: from then on it waits for the batch


@dataclass(eq=False)
class GroupCommit:
    """This worker's queue of units waiting to commit, and the batch that commits them."""

    max_units: int = 64
    max_bytes: int = 8 * 1024 * 1024
    max_s: float = 0.05
    max_queued: int = 4096
    _queue: deque[_Unit[Any]] = field(default_factory=deque)
    _drain: asyncio.Task[None] | None = None
    batches: int = 0  # committed batches, for tests and the bench
    # The newest revision this worker's writes committed (set by service/writes.py): its reads
    # answer nothing older from memory, so a client reads its own writes from any path.
    committed: int = 0
    units: int = 0  # units committed in them

    async def run(self, connect: Connect, work: Work[T], finish: Finish) -> T:
        """``work``'s value once the batch that holds it has committed."""
        if len(self._queue) >= self.max_queued:
            raise errors.Unavailable(f"more than {self.max_queued} writes are waiting; retry")
        unit: _Unit[T] = _Unit(work, finish, asyncio.get_running_loop().create_future())
        self._queue.append(unit)
        if self._drain is None:
            self._drain = asyncio.create_task(self._drain_queue(connect), name="group commit")
        # Shielded: a caller that goes away does not take the others' batch with it (its
        # write still commits, as it would have without the batch).
        return await asyncio.shield(unit.done)

    async def _drain_queue(self, connect: Connect) -> None:
        try:
            while self._queue:
                try:
                    await self._batch(connect)
                except BaseException as exc:  # every waiter must be answered
                    log.exception("group commit failed outside any write")
                    self._fail_queued(exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._drain = None

    def _fail_queued(self, exc: BaseException) -> None:
        while self._queue:
            _answer(self._queue.popleft().done, exc)

    async def _batch(self, connect: Connect) -> None:
        ran: list[tuple[_Unit[Any], Any]] = []
        acquired = False
        try:
            async with connect() as conn:
                acquired = True
                tx = conn.transaction()
                await tx.start()
                try:
                    await self._run_units(conn, ran)
                    if ran:
                        for finish in {id(u.finish): u.finish for u, _ in ran}.values():
                            await finish(conn, [v for u, v in ran if u.finish is finish])
                except BaseException:
                    if not dead(conn):
                        await tx.rollback()
                    raise
                # What sharing the commit costs each write: the work of those after it in
                # the batch, and the NOTIFY (the WAL flush it would have waited for alone).
                committing = time.monotonic()
                for unit, _ in ran:
                    metrics.WRITE_BATCH_WAIT.observe(committing - unit.worked_at)
                await self._commit(conn, tx)
        except BaseException as exc:
            for unit, _ in ran:  # none of them committed (or, at COMMIT, nobody knows)
                _answer(unit.done, exc)
            if not acquired:  # no connection: every waiting write would fail alike
                self._fail_queued(exc)
            if not isinstance(exc, errors.ServiceError):
                raise
            return
        self.batches += 1
        self.units += len(ran)
        if ran:
            metrics.WRITE_BATCH_SIZE.observe(len(ran))
        for unit, value in ran:
            if not unit.done.done():
                unit.done.set_result(value)

    async def _run_units(self, conn: asyncpg.Connection, ran: list[tuple[_Unit[Any], Any]]) -> None:
        # The clock starts when the first unit is done: from then on every further unit delays
        # the answers of those before it (waiting for a lock before that delays nobody else).
        started: float | None = None
        size = 0
        while (
            self._queue and len(ran) < self.max_units and size < self.max_bytes
            and (started is None or time.monotonic() - started < self.max_s)
        ):  # fmt: skip
            unit = self._queue.popleft()
            try:
                with classified(conn):
                    async with conn.transaction():  # a savepoint
                        value, used = await unit.work(conn)
            except Exception as exc:
                if dead(conn):
                    lost = errors.Unavailable("the database connection was lost")
                    _answer(unit.done, lost)
                    raise lost from exc
                _answer(unit.done, exc)  # rolled back to its savepoint: the others go on
                continue
            except BaseException as exc:
                _answer(unit.done, exc)
                raise
            finally:
                unit.worked_at = time.monotonic()
                started = unit.worked_at if started is None else started
            ran.append((unit, value))
            size += used

    @staticmethod
    async def _commit(conn: asyncpg.Connection, tx: Any) -> None:
        try:
            await tx.commit()
        except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as exc:
            raise errors.CommitUnknown(COMMIT_UNKNOWN) from exc
        except asyncpg.PostgresError as exc:
            raise errors.Unavailable(f"the commit failed: {exc.__class__.__name__}") from exc


def _answer(done: asyncio.Future[Any], exc: BaseException) -> None:
    if not done.done():
        done.set_exception(exc)
