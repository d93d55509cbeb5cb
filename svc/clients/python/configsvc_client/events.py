"""What a live view tells its listeners: change events, rejections, and bounded streams of them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from configsvc_client import errors

Config = dict[str, Any]
EventOp = Literal["created", "updated", "deleted", "snapshot", "application_deleted", "rolled_back"]


@dataclass(frozen=True)
class ChangeEvent:
    """A name's config changed: ``old`` or ``new`` is None when it appeared or went away."""

    name: str
    old: Config | None
    new: Config | None
    revision: int
    op: EventOp


@dataclass(frozen=True)
class Rejection:
    """The validator refused ``config`` for ``name`` at ``revision``; the old value stayed."""

    name: str
    config: Config
    revision: int
    reason: str


Event = ChangeEvent | Rejection


class EventStream:
    """Events from the moment it was made; bounded, so a consumer that stalls is told so.

    Iterating raises ``EventsOverflow`` once the events it could not hold would be next; it
    ends when the live view does.
    """

    def __init__(self, registry: set[EventStream], maxsize: int) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.ended = False
        registry.add(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._queue.empty():
                if self.overflowed:
                    raise errors.EventsOverflow("events were dropped; re-read the mapping")
                if self.ended:
                    raise StopAsyncIteration
            item = await self._queue.get()
            if item is not None:
                return item

    def close(self) -> None:
        """Stop receiving events (the consumer is done with it)."""
        self._registry.discard(self)

    def push(self, item: Event) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            # Never wait for a consumer; stop feeding it and let it know when it gets here.
            self.overflowed = True
            self.close()

    def end(self) -> None:
        """No more events will come: iteration stops once the queue is drained."""
        self.ended = True
        self.close()
        # Wakes a consumer waiting on an empty queue; a full one is not waiting.
        if not self._queue.full():
            self._queue.put_nowait(None)
