"""This worker's read cache: the encoded bodies of GET an application and GET a configuration.

The listener applies every committed change to it, in revision order, from the same dispatch
that feeds the hub, so an entry is exactly current up to :attr:`ReadCache.revision`, the last
revision this worker has applied. A read is answered from it only while it is *serving*: the
listener is connected and caught up, and it has applied every write this worker committed
(the write path's ``db.group.committed``, checked by api/reads.py: a client writing and then
reading on one worker sees its write without waiting for the NOTIFY round trip). A reset
(pruned log, rewound revision counter) drops everything.

Fill versus change. A miss reads the database in one statement that returns the row and the
revision counter from one snapshot, so its body is exactly the state at some revision S; then
it installs the body. Changes to that key may be dispatched meanwhile:

1. A change C dispatched *before* the fill began (:meth:`begin`) was committed before the
   fill's statement started, so that statement's snapshot holds it: C <= S. Nothing to do.
2. A change C dispatched *while the fill is in flight* marks the fill (``Fill.touched``). If
   C > S, the body the fill read predates C and installing it would undo C: :meth:`install`
   refuses it (the next read fills again). If C <= S, the body already holds C.
3. Once installed, an entry takes every later change to its key, skipping changes at or below
   its own ``as_of`` (a fill may have read state the listener has not dispatched yet). One
   revision may touch a key several times (a rollback): changes at ``as_of`` itself are
   applied, which is harmless, since each sets a state the entry already has or must get.

So an installed entry is never older than a change the listener has dispatched. A reset bumps
the generation: fills begun before it are refused too. Deleting an application marks every
configuration fill in flight (the log entry does not list the configurations it took along).
Bounded in bytes (what an entry counts: entries.py), the least recently used going first.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from configsvc_contract import exactjson

from configsvc.live import entries
from configsvc.ops import metrics
from configsvc.store import changes, resources

log = logging.getLogger(__name__)

_CONFIG_OPS = frozenset({"created", "updated", "restored"})


@dataclass(eq=False)
class ReadCache:
    """Entries by key in LRU order, at most ``max_bytes`` of them (0: off)."""

    max_bytes: int
    revision: int = 0  # applied through
    live: bool = False  # the listener is connected and caught up
    bytes: int = 0
    _entries: OrderedDict[entries.Key, entries.Entry] = field(default_factory=OrderedDict)
    _configs_of: dict[str, set[str]] = field(default_factory=dict)
    _fills: dict[entries.Key, list[entries.Fill]] = field(default_factory=dict)
    _generation: int = 0
    _waiters: list[tuple[int, int, asyncio.Future[None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _hits: Any = field(default_factory=lambda: metrics.READ_CACHE_LOOKUPS.labels("hit"))
    _misses: Any = field(default_factory=lambda: metrics.READ_CACHE_LOOKUPS.labels("miss"))

    def serving(self, min_revision: int = 0) -> bool:
        """Whether a read at ``min_revision`` or later may be answered from memory now."""
        return self.live and self.max_bytes > 0 and self.revision >= min_revision

    def lookup(self, kind: str, id_: str) -> entries.Entry | None:
        entry = self._entries.get((kind, id_))
        if entry is None:
            self._misses.inc()
            return None
        self._entries.move_to_end((kind, id_))
        self._hits.inc()
        return entry

    # --- fills -------------------------------------------------------------------------

    def begin(self, kind: str, id_: str) -> entries.Fill | None:
        """Call before reading the database for a miss; None when nothing may be filled."""
        if not self.live or self.max_bytes <= 0:
            return None
        fill = entries.Fill((kind, id_), self._generation)
        self._fills.setdefault(fill.key, []).append(fill)
        return fill

    def end(self, fill: entries.Fill | None) -> None:
        """Call when the read is over, whatever its outcome (before :meth:`install`)."""
        if fill is None:
            return
        fills = self._fills.get(fill.key, [])
        if fill in fills:
            fills.remove(fill)
        if not fills:
            self._fills.pop(fill.key, None)

    def install(self, fill: entries.Fill | None, entry: entries.Entry) -> None:
        """Keep what the fill read (the state at ``entry.as_of``) unless a change it has not
        seen was dispatched meanwhile (see the module's docstring)."""
        if fill is None or fill.generation != self._generation or fill.touched > entry.as_of:
            return
        current = self._entries.get(fill.key)
        if current is None or current.as_of < entry.as_of:
            self._put(fill.key, entry)

    # --- the listener's side -----------------------------------------------------------

    def apply(self, change: changes.Entry) -> None:
        """Apply one committed change (in revision order) to the entries it touches. A change
        whose resource cannot be read (bad data in the log) forgets its application: the
        feed still carries it, and the next reads go to the database."""
        try:
            self._apply(change)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("read cache: cannot apply revision %s; forgetting application %s",
                        change.revision, change.application_id[:100])  # fmt: skip
            self._forget_application(change.application_id, change.revision)
        self.revision = change.revision
        self._wake()

    def _apply(self, change: changes.Entry) -> None:
        op, app_id, rev = change.op, change.application_id, change.revision
        if op in _CONFIG_OPS:
            self._configuration(self._decoded(change), rev, present=True)
        elif op == "deleted":
            self._configuration(self._decoded(change), rev, present=False)
        elif op == "rolled_back":
            self._rollback(change)
        elif op == "application_updated":
            self._application(change)
        elif op not in ("application_created", "rollout"):  # a rollout: reads keep the base
            # Deleted, a schema change (it may turn configurations' schema_status without a new
            # version of theirs), or an op this worker does not know: forget the application.
            self._forget_application(app_id, rev)

    def _configuration(self, resource: dict[str, Any] | None, rev: int, present: bool) -> None:
        if resource is None:  # nothing cached or filling for it or its application
            return
        config_id, app_id = resource["id"], resource["application_id"]
        key = (entries.CONFIG, config_id)
        self._touch(key, rev)
        self._touch((entries.APP, app_id), rev)
        current = self._entries.get(key)
        if current is not None and current.as_of <= rev:
            if present:
                ordered = entries.ordered(resource, resources.CONFIGURATION_FIELDS)
                self._put(key, entries.configuration_entry(ordered, rev))
            else:
                self._remove(key)
        self._application_ids(app_id, config_id, present, rev)

    def _application_ids(self, app_id: str, config_id: str, present: bool, rev: int) -> None:
        entry = self._entries.get((entries.APP, app_id))
        if entry is None or entry.as_of > rev or entry.ids is None or entry.fields is None:
            return
        ids = entry.ids
        at = bisect.bisect_left(ids, config_id)
        there = at < len(ids) and ids[at] == config_id
        if there == present:
            entry.as_of = rev
            return
        if present:
            ids.insert(at, config_id)
        else:
            del ids[at]
        self._put((entries.APP, app_id), entries.application_entry(entry.fields, ids, rev))

    def _rollback(self, change: changes.Entry) -> None:
        if not self._concerns(change.application_id):
            return
        moves = exactjson.loads(change.resource)
        for resource in moves["configurations"]:
            self._configuration(resource, change.revision, present=True)
        for config_id in moves["deleted"]:
            gone = {"id": config_id, "application_id": change.application_id}
            self._configuration(gone, change.revision, present=False)

    def _application(self, change: changes.Entry) -> None:
        key = (entries.APP, change.application_id)
        self._touch(key, change.revision)
        entry = self._entries.get(key)
        if entry is None or entry.as_of > change.revision or entry.ids is None:
            return
        fields = entries.ordered(exactjson.loads(change.resource), resources.APPLICATION_FIELDS)
        self._put(key, entries.application_entry(fields, entry.ids, change.revision))

    def _forget_application(self, app_id: str, rev: int) -> None:
        for fills in self._fills.values():
            for fill in fills:
                if fill.key[0] == entries.CONFIG or fill.key[1] == app_id:
                    fill.touched = max(fill.touched, rev)
        for config_id in list(self._configs_of.get(app_id, ())):
            self._remove((entries.CONFIG, config_id))
        self._remove((entries.APP, app_id))

    def _decoded(self, change: changes.Entry) -> dict[str, Any] | None:
        """The change's resource, decoded only if the cache holds or fills anything it touches."""
        if not self._concerns(change.application_id):
            return None
        resource: dict[str, Any] = exactjson.loads(change.resource)
        return resource

    def _concerns(self, app_id: str) -> bool:
        """Whether a change of this application can touch anything cached or filling."""
        return (
            bool(self._fills)
            or (entries.APP, app_id) in self._entries
            or app_id in self._configs_of
        )

    def _touch(self, key: entries.Key, rev: int) -> None:
        for fill in self._fills.get(key, ()):
            fill.touched = max(fill.touched, rev)

    def following(self) -> None:
        """The listener is connected and caught up: entries are current again."""
        self.live = True

    def lost(self) -> None:
        """The listener is away or catching up: answer from the database meanwhile."""
        self.live = False

    def drop(self, revision: int) -> None:
        """A reset: nothing kept can be trusted; fills in flight are void too."""
        self._entries.clear()
        self._configs_of.clear()
        self._generation += 1
        self._set_bytes(0)
        self.revision = revision
        self._wake()

    # --- waiting for a revision --------------------------------------------------------

    async def reach(self, revision: int, timeout_s: float) -> bool:
        """Wait until this worker has applied ``revision``, at most ``timeout_s``."""
        if self.revision >= revision:
            return True
        waiter = asyncio.get_running_loop().create_future()
        entry = (revision, next(self._seq), waiter)
        heapq.heappush(self._waiters, entry)
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(waiter)
        except TimeoutError:
            return False
        finally:
            if not waiter.done():
                # Gave up (the bound, or a client that left): a revision that may never come
                # (one above the head, say) must not keep a waiter per request that asked.
                waiter.cancel()
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
        return self.revision >= revision

    def _wake(self) -> None:
        while self._waiters and self._waiters[0][0] <= self.revision:
            waiter = heapq.heappop(self._waiters)[2]
            if not waiter.done():
                waiter.set_result(None)

    # --- bookkeeping -------------------------------------------------------------------

    def _put(self, key: entries.Key, entry: entries.Entry) -> None:
        self._remove(key)
        self._entries[key] = entry
        if key[0] == entries.CONFIG:
            self._configs_of.setdefault(entry.application_id, set()).add(key[1])
        self._set_bytes(self.bytes + entry.size)
        while self.bytes > self.max_bytes and self._entries:
            self._remove(next(iter(self._entries)))
            metrics.READ_CACHE_EVICTIONS.inc()

    def _remove(self, key: entries.Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._set_bytes(self.bytes - entry.size)
        if key[0] == entries.CONFIG:
            siblings = self._configs_of.get(entry.application_id)
            if siblings is not None:
                siblings.discard(key[1])
                if not siblings:
                    del self._configs_of[entry.application_id]

    def _set_bytes(self, value: int) -> None:
        metrics.READ_CACHE_BYTES.inc(value - self.bytes)
        self.bytes = value

    def __len__(self) -> int:
        return len(self._entries)


CACHE: web.AppKey[ReadCache] = web.AppKey("read_cache", ReadCache)
