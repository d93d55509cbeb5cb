"""A minimal WebSocket client protocol, for holding ten thousand subscribers in one process.

aiohttp's client spends tens of microseconds of Python per received frame; at 10,000
subscribers that alone would take longer than the server's broadcast and the bench would
measure itself. This protocol does only what a subscriber needs: the upgrade, unmasked text
frames from the server, answering pings (the server drops peers that do not), and the close.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
from collections.abc import Callable
from typing import cast

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN set, masked (as RFC 6455 requires) with an all-zero key.

    A zero key leaves the payload as it is, which saves XOR-ing it; servers do not care.
    """
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + b"\0\0\0\0" + payload


def parse_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every complete server frame off the front of ``buffer``."""
    frames = []
    while len(buffer) >= 2:
        opcode, n = buffer[0] & 0x0F, buffer[1] & 0x7F
        start = 2
        if n == 126:
            if len(buffer) < 4:
                break
            n, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif n == 127:
            if len(buffer) < 10:
                break
            n, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < start + n:
            break
        frames.append((opcode, bytes(buffer[start : start + n])))
        del buffer[: start + n]
    return frames


OnText = Callable[["Subscriber", bytes, float], None]


class Subscriber(asyncio.Protocol):
    """One WebSocket; ``on_text(self, payload, monotonic_time)`` for every text frame."""

    def __init__(self, host: str, path: str, on_text: OnText) -> None:
        self.host, self.path, self.on_text = host, path, on_text
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.last_revision = 0
        self.replied = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.upgraded.done():
            head, sep, _ = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionError(head.split(b"\r\n")[0].decode()))
                return
            del self.buffer[: len(head) + 4]
            self.upgraded.set_result(None)
        for opcode, payload in parse_frames(self.buffer):
            if opcode == TEXT:
                self.on_text(self, payload, now)
            elif opcode == PING:
                self.send(PONG, payload)
            elif opcode == CLOSE:
                self._closed(struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005)
                self.send(CLOSE, payload[:2])
                if self.transport is not None:
                    self.transport.close()

    def send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self.send(TEXT, text.encode())

    def _closed(self, code: int) -> None:
        if not self.closed.done():
            self.closed.set_result(code)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed before the upgrade"))
        self._closed(1006)


async def connect(
    host: str, port: int, path: str, on_text: OnText, source: str | None = None
) -> Subscriber:
    """Open one socket and wait for the upgrade.

    ``source``: the local address to connect from. One source address has only ~28,000
    ephemeral ports towards one server port, so a hundred thousand sockets need several
    (any 127.x.y.z is loopback on Linux).
    """
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: Subscriber(f"{host}:{port}", path, on_text),
        host,
        port,
        local_addr=(source, 0) if source else None,
    )
    await protocol.upgraded
    return protocol
