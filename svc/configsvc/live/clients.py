"""The fleet: who is connected to this worker, what each client applied or rejected.

The feed tells :class:`Fleet` about sockets, ``hello`` and ``ack`` messages and subscriptions;
nothing here is written per frame. About once a second a task writes what changed since the
last time, in one batch, and stamps this worker's heartbeat (store/clients.py), so every worker
can show every worker's clients. A failed flush is logged and retried at the next tick.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import database, failures
from configsvc.live import hub, peer
from configsvc.ops import metrics
from configsvc.store import clients as store

log = logging.getLogger(__name__)

FLUSH_S = 1.0
# A worker that has not stamped its heartbeat for this long is taken for dead.
EXPIRY_S = 10 * FLUSH_S
# Configurations remembered per subscription: what a client acks is kept in memory and in its
# row, so a client acking made-up ids must not grow either without bound.
MAX_RESULTS = 500


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(slots=True)
class Caller:
    """One socket: its number in this worker and what its ``hello`` said."""

    number: int
    remote_addr: str | None
    connected_at: datetime.datetime = field(default_factory=_now)
    client_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    sdk: str | None = None
    gone_at: datetime.datetime | None = None
    changes: int = 0


@dataclass(slots=True)
class Seat:
    """One subscription of a caller, with what the client acked for it."""

    caller: Caller
    sub: hub.Subscription
    applied: int | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: int = 0
    flushed: tuple[int, int, int, bool] | None = None

    def state(self) -> tuple[int, int, int, bool]:
        return self.sub.last, self.changes, self.caller.changes, self.gone()

    def gone(self) -> bool:
        return self.caller.gone_at is not None or self.sub.peer.subscriptions.get(
            self.sub.application_id) is not self.sub  # fmt: skip

    def row(self, worker: str) -> tuple[Any, ...]:
        who = self.caller
        gone_at = (who.gone_at or _now()) if self.gone() else None
        return (worker, who.number, self.sub.application_id, who.client_id, who.labels, who.sdk,
                who.remote_addr, who.connected_at, gone_at, self.sub.last, self.applied,
                self.results)  # fmt: skip


def check_text(message: models.Hello | models.Ack) -> None:
    """Refuse strings PostgreSQL cannot store (U+0000, lone surrogates), naming the field."""
    if isinstance(message, models.Hello):
        named = [("client_id", message.client_id), ("sdk", message.sdk)]
        named += [(f"labels.{k[:64]}", k + v) for k, v in message.labels.items()]
    else:
        named = [(f"results.{i}.reason", r.reason or "") for i, r in enumerate(message.results)]
    for name, value in named:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise errors.BadRequest(f"{name}: not valid Unicode (a lone surrogate)") from None
        if "\x00" in value:
            raise errors.BadRequest(f"{name}: must not contain U+0000")


class Fleet:
    """This worker's callers and their seats, and the flush that shares them."""

    def __init__(self) -> None:
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.callers: dict[peer.Peer, Caller] = {}
        self.seats: dict[tuple[int, str], Seat] = {}
        self._numbers = 0

    def connected(self, to: peer.Peer, remote_addr: str | None) -> None:
        self._numbers += 1
        self.callers[to] = Caller(self._numbers, remote_addr)

    def left(self, to: peer.Peer) -> None:
        caller = self.callers.pop(to, None)
        if caller is not None:
            caller.gone_at = _now()

    def hello(self, to: peer.Peer, message: models.Hello) -> None:
        caller = self.callers[to]
        caller.client_id, caller.labels = message.client_id, message.labels
        caller.sdk = message.sdk or None
        caller.changes += 1

    def subscribed(self, to: peer.Peer, sub: hub.Subscription) -> None:
        caller = self.callers[to]
        key = (caller.number, sub.application_id)
        old = self.seats.get(key)
        seat = self.seats[key] = Seat(caller, sub)
        if old is not None:  # subscribed again on the same socket: what it acked still holds
            seat.applied, seat.results = old.applied, old.results

    def ack(self, to: peer.Peer, message: models.Ack) -> None:
        """Record what the client applied; an ack for what it is not subscribed to is a 404."""
        caller = self.callers[to]
        seat = self.seats.get((caller.number, message.application_id))
        if seat is None or seat.gone():
            raise errors.NotFound(f"not subscribed to {message.application_id}")
        new = {r.configuration_id for r in message.results} - seat.results.keys()
        if len(seat.results) + len(new) > MAX_RESULTS:
            raise errors.BadRequest(f"results: more than {MAX_RESULTS} configurations acked")
        seat.applied = max(seat.applied or 0, message.revision)
        at = _now().isoformat()
        for result in message.results:
            metrics.CLIENT_ACKS.labels(result.status).inc()
            entry = seat.results.setdefault(result.configuration_id, {})
            if result.status == "applied":
                entry["applied"] = result.version
                if entry.get("rejected", {}).get("version", 0) <= result.version:
                    entry.pop("rejected", None)
            else:
                entry["rejected"] = {"version": result.version, "reason": result.reason, "at": at}
        seat.changes += 1

    def changed(self) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
        """Rows to write, and the seats to forget once their end is written."""
        rows, ended = [], []
        for key, seat in self.seats.items():
            state = seat.state()
            if state != seat.flushed:
                rows.append(seat.row(self.worker))
                seat.flushed = state
            if state[3]:
                ended.append(key)
        return rows, ended

    async def flush(self, db: database.Database, keep_s: float) -> None:
        """Write what changed since the last flush and stamp the heartbeat, in one go."""
        rows, ended = self.changed()
        await self._write(db, rows, keep_s)
        for key in ended:
            if self.seats.get(key) is not None and self.seats[key].gone():
                del self.seats[key]

    async def _write(self, db: database.Database, rows: list[tuple[Any, ...]],
                     keep_s: float) -> None:  # fmt: skip
        async with db.connection() as conn:
            with failures.classified():
                async with conn.transaction():
                    await store.upsert(conn, rows)
                    await store.heartbeat(conn, self.worker)
                await store.prune(conn, keep_s, EXPIRY_S)

    async def run(self, db: database.Database, keep_s: float) -> None:
        while True:
            try:
                await self.flush(db, keep_s)
            except Exception as exc:
                # Written or not, it is unknown: write every seat again next time.
                for seat in self.seats.values():
                    seat.flushed = None
                log.warning("fleet flush failed: %s", exc)
            await asyncio.sleep(FLUSH_S)


FLEET: web.AppKey[Fleet] = web.AppKey("fleet", Fleet)


async def fleet_ctx(app: web.Application) -> AsyncIterator[None]:
    """Share this worker's clients while it serves; say they are gone when it stops."""
    fleet = app[FLEET] = Fleet()
    keep_s = app[settings_mod.SETTINGS].clients_keep_s
    task = asyncio.create_task(fleet.run(app[database.DB], keep_s), name="fleet flush")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for to in list(fleet.callers):
        fleet.left(to)
    try:
        async with asyncio.timeout(2):
            await fleet.flush(app[database.DB], keep_s)
    except Exception as exc:
        log.info("last fleet flush failed: %s", exc)
