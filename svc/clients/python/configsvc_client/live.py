"""``LiveConfig``: a read-only mapping, configuration name to its ``config``, kept current.

It holds state and tells about changes; the connection that feeds it lives in ``watch``. A
change the validator rejects is recorded, reported and not applied, so the mapping keeps the
last good value while ``revision`` still moves on (the change was seen, and is not replayed).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pydantic
from configsvc_contract import models

from configsvc_client import acks, cache, errors, validators
from configsvc_client.events import ChangeEvent, EventOp, EventStream, Rejection

log = logging.getLogger(__name__)

Config = dict[str, Any]
Validator = validators.Validator
"""Called with (configuration name, new config); returning False or raising rejects it."""
Callback = Callable[[str, Config | None, Config | None], object]
"""Called with (configuration name, old config or None, new config or None)."""


class LiveConfig(Mapping[str, Config]):
    """The configurations of one application, by name; see ``ConfigClient.watch``."""

    def __init__(self, application: str, *, validate: Validator | None = None) -> None:
        self.application = application
        self.application_id: str | None = None
        self.application_name: str | None = None
        self.revision = 0
        # The change-log entry at ``revision`` as the server named it: sent with ``since`` on
        # resume, so that a server on another history (after a failover) starts us over.
        self.entry_id: str | None = None
        self.stale = True
        self.deleted = False
        self.closed = False
        self.error: Exception | None = None  # what ended the view, if it did not just close
        self.rejections: collections.deque[Rejection] = collections.deque(maxlen=100)
        self._validate = validate
        self._by_id: dict[str, models.Configuration] = {}
        self._by_name: dict[str, models.Configuration] = {}
        self._callbacks: list[Callback] = []
        self._streams: set[EventStream] = set()
        self._generation = 0
        self._signal = asyncio.Event()
        self._results: list[dict[str, Any]] = []

    # --- the mapping ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> Config:
        return self._by_name[name].config

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def configuration(self, name: str) -> models.Configuration | None:
        """The whole resource (id, version, comments, ...) behind ``self[name]``."""
        return self._by_name.get(name)

    # --- waiting and listening -------------------------------------------------------------

    async def changed(self) -> None:
        """Wait for the next change to the mapping. Raises ``WatchClosed`` once it has ended."""
        generation = self._generation
        while self._generation == generation:
            self._raise_if_closed()
            await self._signal.wait()

    async def fresh(self) -> None:
        """Wait until the view is in sync with the service (``stale`` is False)."""
        while self.stale:
            self._raise_if_closed()
            await self._signal.wait()

    def _raise_if_closed(self) -> None:
        """``WatchClosed``, or what ended the view (``Revoked``, ``Unauthorized``)."""
        if self.closed:
            if self.error is not None:
                raise self.error
            raise errors.WatchClosed(f"watch of {self.application} has ended")

    def on_change(self, callback: Callback) -> Callback:
        """Call ``callback(name, old, new)`` on every change; usable as a decorator.

        Callbacks run inside the feed, so they must be quick; an exception is logged and
        ignored. For slow or async work, iterate over ``events()`` in a task instead.
        """
        self._callbacks.append(callback)
        return callback

    def events(self, maxsize: int = 1000) -> EventStream:
        """``async for event in live.events():`` ChangeEvent and Rejection, as they happen."""
        stream = EventStream(self._streams, maxsize)
        if self.closed:
            stream.end()
        return stream

    # --- fed by the watch ------------------------------------------------------------------

    def take_results(self) -> list[dict[str, Any]]:
        """What was applied or rejected since the last call, as ``ack`` results."""
        results, self._results = self._results, []
        return results

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            self._wake()

    def close(self, error: Exception | None = None) -> None:
        """End the view; ``error``, if given, is what ``changed()`` and ``fresh()`` raise."""
        if not self.closed:
            self.closed = True
            self.error = error
            for stream in list(self._streams):
                stream.end()
            self._wake()

    def reached(self, revision: int, entry_id: str | None) -> None:
        """Everything up to ``revision`` is applied (a ``synced`` frame)."""
        if revision >= self.revision:
            self.revision, self.entry_id = revision, entry_id

    def mark_deleted(self) -> None:
        """The application is gone: empty the mapping and end the view."""
        self.deleted = True
        self._replace({}, self.revision, op="application_deleted")
        self.close()

    def load(self, state: cache.CacheState) -> None:
        """Start from a cached state (still stale)."""
        self.application_id = state.application_id
        self.application_name = state.application_name
        self.revision, self.entry_id = state.revision, state.entry_id
        self._replace({c.id: c for c in state.configurations}, state.revision)

    def snapshot(self) -> cache.CacheState | None:
        """The state to cache, once there is one."""
        if self.application_id is None:
            return None
        return cache.CacheState(
            application_id=self.application_id,
            application_name=self.application_name,
            revision=self.revision,
            entry_id=self.entry_id,
            configurations=list(self._by_id.values()),
        )

    def apply_snapshot(self, message: models.Snapshot, application_name: str | None) -> None:
        """Replace everything with the snapshot, reporting each name that changed."""
        self.application_id = message.application_id
        if application_name is not None:
            self.application_name = application_name
        wanted = {c.id: c for c in message.configurations}
        for cid, new in list(wanted.items()):
            old = self._by_id.get(cid)
            if (old is None or old.config != new.config) and not self._accepts(new, message):
                del wanted[cid]
                if old is not None:
                    wanted[cid] = old
        self.revision, self.entry_id = message.revision, message.entry_id
        for configuration in message.configurations:
            if wanted.get(configuration.id) is configuration:
                self._results.append(acks.applied(configuration))
        self._replace(wanted, message.revision)

    def apply_change(self, message: models.Change) -> bool:
        """Apply one change; False (and nothing done) for one already applied."""
        if message.revision <= self.revision:
            log.debug("ignoring revision %d: at %d already", message.revision, self.revision)
            return False
        self.revision, self.entry_id = message.revision, message.entry_id
        if message.op == "application_updated":
            self.application_name = (message.application or {}).get("name", self.application_name)
        elif message.op == "application_deleted":
            self.mark_deleted()
        elif message.op == "deleted":
            self._delete(str((message.configuration or {}).get("id")), message.revision)
        elif message.op == "rolled_back":
            self._roll_back(message)
        else:
            self._upsert(message)
        return True

    # --- bookkeeping -----------------------------------------------------------------------

    def _roll_back(self, message: models.Change) -> None:
        """A whole application went back to a past revision: apply it as ONE step, so every
        event of it is reported together and ``changed()`` wakes once."""
        wanted = {cid: c for cid, c in self._by_id.items() if cid not in (message.deleted or [])}
        for data in message.configurations or []:
            try:
                new = models.Configuration.model_validate(data)
            except pydantic.ValidationError as exc:
                log.warning("ignoring malformed configuration at %d: %s", message.revision, exc)
                continue
            old = wanted.get(new.id)
            same = old is not None and (old.name, old.config) == (new.name, new.config)
            if same or self._accepts(new, message):
                wanted[new.id] = new
        self._replace(wanted, message.revision, op="rolled_back")

    def _upsert(self, message: models.Change) -> None:
        try:
            new = models.Configuration.model_validate(message.configuration)
        except pydantic.ValidationError as exc:
            log.warning(
                "ignoring malformed configuration at revision %d: %s", message.revision, exc
            )
            return
        old = self._by_id.get(new.id)
        if old is not None and old.name == new.name and old.config == new.config:
            self._put(new)  # comments or version only: nothing to report
            self._results.append(acks.applied(new))
            return
        if not self._accepts(new, message):
            return
        if old is not None and old.name != new.name:
            self._delete(old.id, message.revision)
        previous = self._by_name.get(new.name)
        self._put(new)
        self._results.append(acks.applied(new))
        op: EventOp = "updated" if previous is not None else "created"
        event = ChangeEvent(new.name, _config(previous), new.config, message.revision, op)
        self._report([event])

    def _delete(self, cid: str, revision: int) -> None:
        old = self._by_id.pop(cid, None)
        if old is None:
            return
        if self._by_name.get(old.name) is old:
            del self._by_name[old.name]
        self._report([ChangeEvent(old.name, old.config, None, revision, "deleted")])

    def _put(self, configuration: models.Configuration) -> None:
        self._by_id[configuration.id] = configuration
        self._by_name[configuration.name] = configuration

    def _replace(
        self, by_id: dict[str, models.Configuration], revision: int, op: EventOp = "snapshot"
    ) -> None:
        before = {name: c.config for name, c in self._by_name.items()}
        self._by_id = by_id
        self._by_name = {c.name: c for c in by_id.values()}
        after = {name: c.config for name, c in self._by_name.items()}
        self._report(
            [
                ChangeEvent(name, before.get(name), after.get(name), revision, op)
                for name in sorted(before.keys() | after.keys())
                if before.get(name) != after.get(name)
            ]
        )

    def _accepts(self, new: models.Configuration, message: models.Snapshot | models.Change) -> bool:
        if self._validate is None:
            return True
        reason = validators.refusal(self._validate, new.name, new.config)
        if reason is None:
            return True
        self._results.append(acks.rejected(new, reason))
        rejection = Rejection(new.name, new.config, message.revision, reason)
        log.warning("rejected %s at revision %d: %s", new.name, message.revision, reason)
        self.rejections.append(rejection)
        for stream in list(self._streams):
            stream.push(rejection)
        return False

    def _report(self, changes: list[ChangeEvent]) -> None:
        if not changes:
            return
        for event in changes:
            for callback in list(self._callbacks):
                try:
                    callback(event.name, event.old, event.new)
                except Exception:
                    log.exception("on_change callback %r failed", callback)
            for stream in list(self._streams):
                stream.push(event)
        self._generation += 1
        self._wake()

    def _wake(self) -> None:
        self._signal.set()
        self._signal = asyncio.Event()


def _config(configuration: models.Configuration | None) -> Config | None:
    return configuration.config if configuration is not None else None
