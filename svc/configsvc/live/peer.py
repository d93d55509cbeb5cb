"""One subscriber's WebSocket, and how frames reach it without the hub ever waiting.

Server-to-client frames are not masked (RFC 6455), so a change is framed once and the same
bytes are written to every idle socket's transport directly: no task switch per subscriber.
A socket whose kernel buffer is filling up gets a backlog drained by a task of its own,
through aiohttp's flow-controlled ``send_str``. What a socket may hold is bounded in bytes
(its backlog, its transport's buffer and the changes held back while it syncs): past the
bound it is closed with 4008. A close that the client does not complete within the close
deadline aborts the connection, so a client that never reads cannot keep it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from configsvc.ops import metrics

if TYPE_CHECKING:
    from configsvc.auth.access import Caller

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008
# Write straight to the transport only while this little is waiting in its buffer.
HIGH_WATER = 64 * 1024
# SO_LINGER on, 0 s: closing sends a reset and frees the kernel's buffers at once.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class Interest(Protocol):
    """What a peer holds per application (a hub.Subscription, which knows its peer: the peer
    only needs to end it when it closes, so it does not import the hub back)."""

    application_id: str

    def syncing(self) -> bool: ...
    def end(self) -> None: ...


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
    __slots__ = ("_backlog", "_backlog_bytes", "_task", "caller", "client_id", "close_code",
                 "close_timeout", "held_bytes", "labels", "limit", "name", "queued",
                 "subscriptions", "transport", "writer", "ws")  # fmt: skip

    def __init__(self, ws: web.WebSocketResponse, writer: AbstractStreamWriter,
                 transport: asyncio.Transport, limit: int, close_timeout: float,
                 name: str) -> None:  # fmt: skip
        self.ws, self.writer, self.transport = ws, writer, transport
        self.limit, self.name = limit, name
        self.close_timeout = close_timeout
        self.subscriptions: dict[str, Interest] = {}
        # Who opened the socket: its token is re-checked when it changes or expires.
        self.caller: Caller | None = None
        # What its hello said: where it stands in a rollout (service/rollouts.py).
        self.client_id: str | None = None
        self.labels: dict[str, str] = {}
        self.close_code: int | None = None
        self.queued = 0  # bytes ever accepted for this socket
        self.held_bytes = 0  # bytes of changes held back by syncing subscriptions
        self._backlog: deque[tuple[str, int]] | None = None
        self._backlog_bytes = 0
        self._task: asyncio.Task[None] | None = None  # the drain, or the close, under way

    def pending(self) -> int:
        """Bytes this socket holds in the server: its backlog, its transport, held changes."""
        return self._backlog_bytes + self.transport.get_write_buffer_size() + self.held_bytes

    def sent_through(self) -> int:
        """How many of the ``queued`` bytes have left for the kernel."""
        return self.queued - self._backlog_bytes - self.transport.get_write_buffer_size()

    def send(self, text: str, frame: bytes | None = None) -> None:
        """Send without waiting; a peer that lets ``limit`` bytes pile up is closed (4008)."""
        # ws.closed is set before aiohttp writes its CLOSE frame: nothing may follow that.
        if self.close_code is not None or self.ws.closed:
            return
        data = frame if frame is not None else text_frame(text)
        if (
            self._task is None
            and not self.transport.is_closing()
            and self.transport.get_write_buffer_size() < HIGH_WATER
        ):
            self.queued += len(data)
            self.transport.write(data)
            return
        if self.pending() + len(data) > self.limit:
            self.close(CLOSE_TOO_SLOW, "too slow: send buffer full; resubscribe with since")
            return
        if self._backlog is None:
            self._backlog = deque()
        self._backlog.append((text, len(data)))
        self._backlog_bytes += len(data)
        self.queued += len(data)
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=f"{self.name} drain")

    def over_limit(self) -> bool:
        """Too much is held for this socket: close it (4008) and say so."""
        if self.pending() <= self.limit:
            return False
        self.close(CLOSE_TOO_SLOW, "too slow: changes piled up while syncing")
        return True

    async def settle(self, patience: float) -> None:
        """Wait, at most ``patience`` seconds, for the output of a socket holding more than
        half its bound to leave for the kernel.

        Used between client messages: a client that reads slowly is answered slowly, which
        is the backpressure it asked for, and no database connection is held meanwhile.
        """
        if self.pending() <= self.limit // 2:
            return
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(patience):
                if self._task is not None:
                    await asyncio.wait({self._task})
                await self.writer.drain()

    async def _drain(self) -> None:
        try:
            while self._backlog:
                text, size = self._backlog.popleft()
                self._backlog_bytes -= size
                await self.ws.send_str(text)
        except ConnectionError:
            pass  # the client is gone; its handler cleans up
        finally:
            if self._task is asyncio.current_task():  # not yet replaced by the close
                self._task, self._backlog, self._backlog_bytes = None, None, 0

    def close(self, code: int, reason: str) -> None:
        """End every subscription, drop the backlog, and close the socket with ``code``."""
        if self.close_code is not None:
            return
        log.info("closing %s: %s %s", self.name, code, reason)
        if code == CLOSE_TOO_SLOW:
            metrics.WS_SLOW_CLOSES.inc()
        self.close_code = code
        for sub in list(self.subscriptions.values()):
            sub.end()
        self._backlog, self._backlog_bytes = None, 0
        draining, self._task = self._task, None
        if draining is not None:
            draining.cancel()
        self._task = asyncio.create_task(self._close(reason), name=f"{self.name} close")

    async def _close(self, reason: str) -> None:
        assert self.close_code is not None
        with contextlib.suppress(ConnectionError, TimeoutError):
            async with asyncio.timeout(self.close_timeout):
                await self.ws.close(code=self.close_code, message=reason.encode())
        # Not closed cleanly in time, or closed with data the client will never read (a
        # heartbeat timeout): let go of the connection now.
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.abort()

    def abort(self) -> None:
        """Drop the connection at once, unsent data and all."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        self.transport.abort()

    async def finish(self) -> None:
        """Close (normally, if nobody closed it yet) and wait for that, within the deadline."""
        self.close(1000, "")
        task = self._task
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, self.close_timeout + 1)
