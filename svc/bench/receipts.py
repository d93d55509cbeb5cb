"""What a subscriber holder has received: per revision, how many of its subscribers have it and
when the latest of them got it (on this process's monotonic clock)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import wsclient

TYPE = re.compile(rb'"type"\s*:\s*"(\w+)"')
REVISION = re.compile(rb'"revision"\s*:\s*(\d+)')


@dataclass
class Receipts:
    """Per revision: how many subscribers have it, and when the latest of them got it."""

    by_revision: dict[int, list[float]] = field(default_factory=dict)
    changes: int = 0
    message_bytes: int = 0
    errors: list[str] = field(default_factory=list)
    replies: dict[wsclient.Subscriber, asyncio.Future[None]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, done: Callable[[], bool], timeout_s: float) -> None:
        """Return once ``done()`` holds, re-checking on every change; give up after a while."""
        deadline = time.monotonic() + timeout_s
        while not done() and (left := deadline - time.monotonic()) > 0:
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    def on_text(self, sub: wsclient.Subscriber, payload: bytes, now: float) -> None:
        kind = TYPE.search(payload)
        if kind is not None and kind.group(1) == b"change":
            found = REVISION.search(payload)
            revision = int(found.group(1)) if found else 0
            seen = self.by_revision.get(revision)
            if seen is None:
                self.by_revision[revision] = [1, now]
            else:
                seen[0] += 1
                seen[1] = now
            self.changes += 1
            self.arrived.set()
            self.message_bytes = len(payload)
            sub.last_revision = max(sub.last_revision, revision)
            return
        if kind is not None and kind.group(1) == b"error":
            self.errors.append(payload[:300].decode(errors="replace"))
        waiter = self.replies.pop(sub, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def count(self, revision: int) -> int:
        seen = self.by_revision.get(revision)
        return int(seen[0]) if seen else 0
