"""One subscriber's WebSocket, and how frames reach it without the hub ever waiting.

Server-to-client frames are not masked (RFC 6455), so a change is framed once and the same
bytes are written to every idle socket's transport directly: no task switch per subscriber.
A socket whose kernel buffer is filling up gets a bounded backlog drained by a task of its
own, through aiohttp's flow-controlled ``send_str``; past the bound it is closed with 4008.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections import deque
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from configsvc.auth.access import Caller
    from configsvc.live.hub import Subscription

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008
# Write straight to the transport only while this little is waiting in its buffer.
HIGH_WATER = 64 * 1024


def text_frame(text: str) -> bytes:
    """A final, unmasked, uncompressed text frame carrying ``text``."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class Peer:
    """One WebSocket: its subscriptions by application id, and its backlog when it lags."""

    # Thousands of these sit idle in a worker: slots and a backlog made only when needed keep
    # each one small.
    __slots__ = ("_backlog", "_task", "caller", "close_code", "limit", "name", "subscriptions",
                 "transport", "ws")  # fmt: skip

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport, limit: int,
                 name: str) -> None:  # fmt: skip
        self.ws, self.transport, self.limit, self.name = ws, transport, limit, name
        self.subscriptions: dict[str, Subscription] = {}
        # Who opened the socket: its token is re-checked when it changes or expires.
        self.caller: Caller | None = None
        self.close_code: int | None = None
        self._backlog: deque[str] | None = None
        self._task: asyncio.Task[None] | None = None  # the drain, or the close, under way

    def send(self, text: str, frame: bytes | None = None) -> None:
        """Send without waiting; a peer that lets ``limit`` frames pile up is closed (4008)."""
        if self.close_code is not None:
            return
        if (
            self._task is None
            and not self.transport.is_closing()
            and self.transport.get_write_buffer_size() < HIGH_WATER
        ):
            self.transport.write(frame if frame is not None else text_frame(text))
            return
        if self._backlog is None:
            self._backlog = deque()
        if len(self._backlog) >= self.limit:
            self.close(CLOSE_TOO_SLOW, "too slow: send queue full; resubscribe with since")
            return
        self._backlog.append(text)
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=f"{self.name} drain")

    async def send_paced(self, text: str) -> None:
        """Send, then wait while the backlog is half full: for catch-ups, which may be long."""
        self.send(text)
        if self._backlog and len(self._backlog) >= self.limit // 2 and self._task is not None:
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        try:
            while self._backlog:
                await self.ws.send_str(self._backlog.popleft())
        except ConnectionError:
            pass  # the client is gone; its handler cleans up
        finally:
            self._task, self._backlog = None, None

    def close(self, code: int, reason: str) -> None:
        """End every subscription, drop the backlog, and close the socket with ``code``."""
        if self.close_code is not None:
            return
        log.info("closing %s: %s %s", self.name, code, reason)
        self.close_code = code
        for sub in list(self.subscriptions.values()):
            sub.end()
        self._backlog = None
        draining, self._task = self._task, None
        if draining is not None:
            draining.cancel()
        self._task = asyncio.create_task(self._close(reason), name=f"{self.name} close")

    async def _close(self, reason: str) -> None:
        assert self.close_code is not None
        with contextlib.suppress(ConnectionError):
            await self.ws.close(code=self.close_code, message=reason.encode())

    async def finish(self) -> None:
        """Close (normally, if nobody closed it yet) and wait for that, at most 5 s."""
        self.close(1000, "")
        task = self._task
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
