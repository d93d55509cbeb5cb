"""Fan-out of committed changes to this worker's WebSocket subscribers.

The listener hands every change to :meth:`Hub.dispatch` in revision order. The frame is
encoded once per change; each subscriber gets it with ``put_nowait`` on its socket's bounded
queue, so a slow socket never slows the listener, the writers or anyone else: when its queue
is full it is closed with 4008 and resumes later with ``since``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict

from configsvc import changes

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008


def change_frame(entry: changes.Entry) -> str:
    """The ``change`` message for a log entry, built around the stored JSON text as it is."""
    key = "application" if entry.op.startswith("application_") else "configuration"
    return (
        f'{{"type":"change","application_id":{json.dumps(entry.application_id)},'
        f'"revision":{entry.revision},"op":"{entry.op}","{key}":{entry.resource}}}'
    )


# Changes a subscriber never sees: nobody can be subscribed to an application before it exists.
SILENT_OPS = frozenset({"application_created"})


class Peer:
    """One WebSocket: its bounded send queue and its subscriptions by application id."""

    def __init__(self, queue_size: int, name: str) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self.subscriptions: dict[str, Subscription] = {}
        self.name = name
        self.close_code: int | None = None
        self.close_reason = ""

    def send(self, frame: str) -> None:
        """Queue a frame without waiting; a full queue means this peer has fallen behind."""
        if self.close_code is not None:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW, "too slow: send queue full; resubscribe with since")

    def close(self, code: int, reason: str) -> None:
        """Ask the writer to close the socket after what it is sending now; drop the rest."""
        if self.close_code is not None:
            return
        log.info("closing %s: %s %s", self.name, code, reason)
        self.close_code, self.close_reason = code, reason
        for sub in list(self.subscriptions.values()):
            sub.end()
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Subscription:
    """One peer's interest in one application.

    While ``syncing`` (between registering and sending the snapshot or catch-up), live changes
    are held back; afterwards only revisions above ``last`` go out, so nothing is sent twice.
    """

    def __init__(self, hub: Hub, peer: Peer, application_id: str, buffer_limit: int) -> None:
        self.hub, self.peer, self.application_id = hub, peer, application_id
        self.syncing = True
        self.last = 0
        self._held: list[tuple[int, str, str]] = []
        self._limit = buffer_limit

    def offer(self, revision: int, op: str, frame: str) -> None:
        if self.syncing:
            self._held.append((revision, op, frame))
            if len(self._held) > self._limit:
                self.peer.close(CLOSE_TOO_SLOW, "too slow: changes piled up while syncing")
        elif revision > self.last:
            self.last = revision
            self.peer.send(frame)
            if op == "application_deleted":
                self.end()

    def synced(self, revision: int) -> None:
        """Go live from ``revision``: release what was held back and is newer."""
        self.last, self.syncing = revision, False
        held, self._held = self._held, []
        for rev, op, frame in held:
            self.offer(rev, op, frame)

    def end(self) -> None:
        self.hub.remove(self)
        if self.peer.subscriptions.get(self.application_id) is self:
            del self.peer.subscriptions[self.application_id]


class Hub:
    """This worker's subscriptions by application, and the peers that hold them."""

    def __init__(self) -> None:
        self._by_app: defaultdict[str, set[Subscription]] = defaultdict(set)
        self.peers: set[Peer] = set()

    def subscribe(self, peer: Peer, application_id: str) -> Subscription:
        """Register (syncing) before reading the snapshot, so no change falls in between."""
        old = peer.subscriptions.get(application_id)
        if old is not None:
            old.end()
        sub = Subscription(self, peer, application_id, peer.queue.maxsize)
        peer.subscriptions[application_id] = sub
        self._by_app[application_id].add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        subs = self._by_app.get(sub.application_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_app[sub.application_id]

    def dispatch(self, entry: changes.Entry) -> None:
        subs = self._by_app.get(entry.application_id)
        if not subs or entry.op in SILENT_OPS:
            return
        frame = change_frame(entry)
        for sub in list(subs):
            sub.offer(entry.revision, entry.op, frame)

    def close_all(self, code: int, reason: str) -> None:
        for peer in list(self.peers):
            peer.close(code, reason)

    @property
    def subscription_count(self) -> int:
        return sum(len(subs) for subs in self._by_app.values())
