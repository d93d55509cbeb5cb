"""Fan-out of committed changes to this worker's WebSocket subscribers.

The listener hands every change to :meth:`Hub.dispatch` in revision order and awaits it. The
frame is encoded once per change and handed to each subscriber's peer without waiting (see
peer.py), so a slow socket never slows the listener or anyone else: it is closed with 4008 and
resumes later with ``since``. A change for tens of thousands of sockets is handed out in
slices of FANOUT_SLICE_S, with a turn of the event loop between them, so the worker's requests
are answered during a fan-out instead of after it. Nothing is lost by yielding: a subscription
registered meanwhile reads its snapshot or catch-up from the database, which already holds the
change (it committed before it was dispatched).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from configsvc_contract import exactjson

from configsvc.live import peer, rollfeed
from configsvc.ops import metrics
from configsvc.store import changes

log = logging.getLogger(__name__)

CLOSE_SERVICE_RESTART = 1012
# How long a fan-out runs before it gives the event loop a turn: what a request waits at most
# behind a fan-out, for each turn it needs. Looked at every FANOUT_CHECK sockets (the clock
# costs more than an offer). The trade, measured in svc/docs/performance.md ("Fan-out"): the
# REST p99 during fan-outs to 36,000 sockets fell from 590 to 86 ms; a worker sending more
# changes than its CPU can now queues frames instead of holding its writers back.
FANOUT_SLICE_S = 0.01
FANOUT_CHECK = 100


class _Slices:
    """Gives the event loop a turn each time a fan-out has used up a slice."""

    __slots__ = ("until",)

    def __init__(self) -> None:
        self.until = time.monotonic() + FANOUT_SLICE_S

    async def offered(self, done: int) -> None:
        """``done`` subscribers have been offered the change(s) so far."""
        if done % FANOUT_CHECK == 0 and time.monotonic() > self.until:
            await asyncio.sleep(0)
            self.until = time.monotonic() + FANOUT_SLICE_S


# The key of the resource in a change, by op (None: a rollback, whose resource holds the
# frame's own members). An op this worker does not know (written by a newer release during a
# rolling deploy) cannot be framed correctly: see Hub.dispatch.
RESOURCE_KEYS: dict[str, str | None] = {
    "created": "configuration", "updated": "configuration", "deleted": "configuration",
    "restored": "configuration", "rolled_back": None, "application_created": "application",
    "application_updated": "application", "application_deleted": "application",
    "schema_created": "schema", "schema_updated": "schema", "schema_deleted": "schema",
}  # fmt: skip


def _actor(entry: changes.Entry) -> str:
    if entry.actor_id is None:
        return "null"
    return json.dumps({"id": entry.actor_id, "name": entry.actor_name}, ensure_ascii=False)


def change_frame(entry: changes.Entry) -> str:
    """The ``change`` message for a log entry, built around the stored JSON text as it is.

    A ``rolled_back`` entry's resource is an object whose members (``configurations``,
    ``deleted``) become the frame's own: the whole rollback is one frame, applied as one step.
    """
    head = (
        f'{{"type":"change","application_id":{json.dumps(entry.application_id)},'
        f'"revision":{entry.revision},"op":"{entry.op}",'
        f'"reason":{json.dumps(entry.reason, ensure_ascii=False)},'
        f'"request_id":{json.dumps(entry.request_id)},'
        f'"actor":{_actor(entry)},'
        f'"entry_id":{json.dumps(entry.entry_id)},'
    )
    key = RESOURCE_KEYS[entry.op]
    if key is None:
        return head + entry.resource.strip()[1:]
    return f'{head}"{key}":{entry.resource}}}'


# Changes a subscriber never sees: nobody can be subscribed to an application before it exists;
# schemas are the server's business (and clients older than them would not know the op).
SILENT_OPS = frozenset(
    {"application_created", "schema_created", "schema_updated", "schema_deleted"}
)


class Subscription:
    """One peer's interest in one application.

    While ``syncing`` (between registering and sending the snapshot or catch-up), live changes
    are held back, counted against the peer's byte bound; afterwards only revisions above
    ``last`` go out, so nothing is sent twice.
    """

    __slots__ = ("_held", "_held_bytes", "application_id", "hub", "last", "peer", "sync_end")

    def __init__(self, hub: Hub, to: peer.Peer, application_id: str) -> None:
        self.hub, self.peer, self.application_id = hub, to, application_id
        self.last = 0
        # Changes held back while syncing; None once live.
        self._held: list[tuple[int, str, str, bytes]] | None = []
        self._held_bytes = 0
        self.sync_end = 0  # where the snapshot or catch-up ends in the peer's output

    def offer(self, revision: int, op: str, text: str, frame: bytes) -> None:
        if self._held is not None:
            self._held.append((revision, op, text, frame))
            self._hold(len(frame))
            self.peer.over_limit()
        elif revision > self.last:
            self.last = revision
            self.peer.send(text, frame)
            if op == "application_deleted":
                self.end()

    def syncing(self) -> bool:
        """Whether its snapshot or catch-up is still being read, or not yet sent out."""
        return self._held is not None or self.peer.sent_through() < self.sync_end

    def synced(self, revision: int) -> None:
        """Go live from ``revision`` (sent just now): release what was held back and is newer."""
        self.last, self.sync_end = revision, self.peer.queued
        held, self._held = self._held or [], None
        self._hold(-self._held_bytes)
        for held_change in held:
            self.offer(*held_change)

    def end(self) -> None:
        self._hold(-self._held_bytes)
        self._held = None
        self.hub.remove(self)
        if self.peer.subscriptions.get(self.application_id) is self:
            del self.peer.subscriptions[self.application_id]

    def _hold(self, size: int) -> None:
        self._held_bytes += size
        self.peer.held_bytes += size


class Hub:
    """This worker's subscriptions by application, and the peers that hold them."""

    def __init__(self) -> None:
        self._by_app: defaultdict[str, set[Subscription]] = defaultdict(set)
        self.peers: set[peer.Peer] = set()
        # Called with every change, in revision order, before any subscriber sees it (e.g. the
        # compiled-schema cache); must not raise or wait.
        self.observers: list[Callable[[changes.Entry], None]] = []
        self._unknown_ops: set[str] = set()  # warned about once each

    def subscribe(self, to: peer.Peer, application_id: str) -> Subscription:
        """Register (syncing) before reading the snapshot, so no change falls in between."""
        old = to.subscriptions.get(application_id)
        if old is not None:
            old.end()
        sub = Subscription(self, to, application_id)
        to.subscriptions[application_id] = sub
        self._by_app[application_id].add(sub)
        metrics.WS_SUBSCRIPTIONS.inc()
        return sub

    def remove(self, sub: Subscription) -> None:
        subs = self._by_app.get(sub.application_id)
        if subs is not None and sub in subs:
            subs.discard(sub)
            metrics.WS_SUBSCRIPTIONS.dec()
            if not subs:
                del self._by_app[sub.application_id]

    async def dispatch(self, entries: Sequence[changes.Entry]) -> None:
        """Hand committed changes (in revision order) to their applications' subscribers,
        never waiting for one.

        Consecutive changes of one application go out as one run: each subscriber is offered
        all of them back to back, so a burst is one pass over the subscribers (and over the
        slices), not one per change. Runs follow each other in revision order, so a socket
        subscribed to several applications still gets every frame in revision order.
        """
        run: list[changes.Entry] = []
        for entry in entries:
            for observe in self.observers:
                observe(entry)
            if run and entry.application_id != run[0].application_id:
                await self._fan_out(run)
                run = []
            if entry.op == "rollout" or entry.op not in RESOURCE_KEYS:
                if run:
                    await self._fan_out(run)
                    run = []
                subs = self._by_app.get(entry.application_id) or set()
                if entry.op == "rollout":
                    await self._rollout(entry, list(subs))
                else:
                    self._unknown(entry, subs)
            elif entry.op not in SILENT_OPS:
                run.append(entry)
        if run:
            await self._fan_out(run)

    async def _fan_out(self, run: list[changes.Entry]) -> None:
        """One application's consecutive changes to each of its subscribers, a slice of
        subscribers per turn of the event loop."""
        subs = self._by_app.get(run[0].application_id)
        if not subs:
            return
        offers = []
        for entry in run:
            text = change_frame(entry)
            offers.append((entry.revision, entry.op, text, peer.text_frame(text)))
        targets, slices = list(subs), _Slices()
        for done, sub in enumerate(targets, 1):
            for offer in offers:
                sub.offer(*offer)
                if offer[1] == "application_deleted":
                    break  # its subscription ended with it
            await slices.offered(done)
        # Once per run, not per subscriber: the hot path stays one loop of offers.
        metrics.WS_FRAMES.inc(len(targets) * len(offers))

    async def _rollout(self, entry: changes.Entry, subs: list[Subscription]) -> None:
        """Only the subscribers whose place in the rollout changed get a frame (rollfeed.py)."""
        if not subs:
            return
        decoded, slices = exactjson.loads(entry.resource), _Slices()
        for done, sub in enumerate(subs, 1):
            text = rollfeed.frame_for(entry, sub.peer, decoded)
            if text is not None:
                sub.offer(entry.revision, "updated", text, peer.text_frame(text))
                metrics.WS_FRAMES.inc()
            await slices.offered(done)

    def _unknown(self, entry: changes.Entry, subs: set[Subscription]) -> None:
        """Skip a change this release cannot frame, never crash on it: its application's
        subscribers are sent away (1012) and start over from a snapshot (live/sync.py)."""
        metrics.FEED_RESETS.labels("unknown_op").inc()
        if entry.op not in self._unknown_ops and len(self._unknown_ops) < 100:
            self._unknown_ops.add(entry.op)
            log.warning(
                "revision %s: op %r is unknown to this release (a newer one wrote it?); its "
                "subscribers resubscribe from a snapshot", entry.revision, entry.op[:100],
            )  # fmt: skip
        for each in {sub.peer for sub in subs}:
            each.close(CLOSE_SERVICE_RESTART, "a change this server cannot read; resubscribe")

    def close_all(self, code: int, reason: str) -> None:
        for each in list(self.peers):
            each.close(code, reason)

    @property
    def subscription_count(self) -> int:
        return sum(len(subs) for subs in self._by_app.values())
