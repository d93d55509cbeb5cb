"""Fan-out of committed changes to this worker's WebSocket subscribers.

The listener hands every change to :meth:`Hub.dispatch` in revision order. The frame is
encoded once per change and handed to each subscriber's peer without waiting (see peer.py),
so a slow socket never slows the listener or anyone else: it is closed with 4008 and
resumes later with ``since``.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from configsvc.live import peer
from configsvc.store import changes

log = logging.getLogger(__name__)


def change_frame(entry: changes.Entry) -> str:
    """The ``change`` message for a log entry, built around the stored JSON text as it is."""
    key = "application" if entry.op.startswith("application_") else "configuration"
    actor = (
        "null" if entry.actor_id is None
        else json.dumps({"id": entry.actor_id, "name": entry.actor_name}, ensure_ascii=False)
    )  # fmt: skip
    return (
        f'{{"type":"change","application_id":{json.dumps(entry.application_id)},'
        f'"revision":{entry.revision},"op":"{entry.op}","{key}":{entry.resource},'
        f'"actor":{actor}}}'
    )


# Changes a subscriber never sees: nobody can be subscribed to an application before it exists.
SILENT_OPS = frozenset({"application_created"})


class Subscription:
    """One peer's interest in one application.

    While ``syncing`` (between registering and sending the snapshot or catch-up), live changes
    are held back; afterwards only revisions above ``last`` go out, so nothing is sent twice.
    """

    __slots__ = ("_held", "application_id", "hub", "last", "peer")

    def __init__(self, hub: Hub, to: peer.Peer, application_id: str) -> None:
        self.hub, self.peer, self.application_id = hub, to, application_id
        self.last = 0
        # Changes held back while syncing; None once live.
        self._held: list[tuple[int, str, str, bytes]] | None = []

    def offer(self, revision: int, op: str, text: str, frame: bytes) -> None:
        if self._held is not None:
            self._held.append((revision, op, text, frame))
            if len(self._held) > self.peer.limit:
                self.peer.close(peer.CLOSE_TOO_SLOW, "too slow: changes piled up while syncing")
        elif revision > self.last:
            self.last = revision
            self.peer.send(text, frame)
            if op == "application_deleted":
                self.end()

    def synced(self, revision: int) -> None:
        """Go live from ``revision``: release what was held back and is newer."""
        self.last = revision
        held, self._held = self._held or [], None
        for held_change in held:
            self.offer(*held_change)

    def end(self) -> None:
        self.hub.remove(self)
        if self.peer.subscriptions.get(self.application_id) is self:
            del self.peer.subscriptions[self.application_id]


class Hub:
    """This worker's subscriptions by application, and the peers that hold them."""

    def __init__(self) -> None:
        self._by_app: defaultdict[str, set[Subscription]] = defaultdict(set)
        self.peers: set[peer.Peer] = set()

    def subscribe(self, to: peer.Peer, application_id: str) -> Subscription:
        """Register (syncing) before reading the snapshot, so no change falls in between."""
        old = to.subscriptions.get(application_id)
        if old is not None:
            old.end()
        sub = Subscription(self, to, application_id)
        to.subscriptions[application_id] = sub
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
        text = change_frame(entry)
        frame = peer.text_frame(text)
        for sub in list(subs):
            sub.offer(entry.revision, entry.op, text, frame)

    def close_all(self, code: int, reason: str) -> None:
        for each in list(self.peers):
            each.close(code, reason)

    @property
    def subscription_count(self) -> int:
        return sum(len(subs) for subs in self._by_app.values())
