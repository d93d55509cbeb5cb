"""Frames built once are valid WebSocket frames; a socket whose client never reads is
bounded in bytes and let go of; nothing is ever sent after a CLOSE frame."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from configsvc import app as app_mod
from configsvc.live import follow, peer
from conftest import ADMIN_HEADERS, ADMIN_TOKEN


@pytest.mark.parametrize(("size", "header"), [(5, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_text_frame_headers_follow_rfc_6455(size: int, header: int) -> None:
    frame = peer.text_frame("x" * size)
    assert frame[0] == 0x81, "FIN and opcode text, no RSV bits (not compressed)"
    assert frame[1] & 0x80 == 0, "server frames are not masked"
    assert len(frame) == header + size
    if header == 4:
        assert struct.unpack("!H", frame[2:4])[0] == size
    if header == 10:
        assert struct.unpack("!Q", frame[2:10])[0] == size


def test_text_is_utf8() -> None:
    assert peer.text_frame("é")[2:] == "é".encode()


# --- sockets whose clients never read ------------------------------------------------------

ESTABLISHED = "01"


class RawSocket:
    """A WebSocket client that reads nothing after the handshake, so the kernel's buffers
    between it and the server fill up, as with a client that hangs or an attacker."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.port: int = writer.get_extra_info("sockname")[1]

    @classmethod
    async def open(cls, port: int, path: str = "/api/v1/ws") -> RawSocket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        # A tiny stream buffer: the stream stops reading the socket after a couple of KiB.
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
            b"Authorization: Bearer " + ADMIN_TOKEN.encode() + b"\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert b" 101 " in head.split(b"\r\n")[0], head
        return cls(reader, writer)

    def send(self, text: str, opcode: int = 0x1) -> None:
        """One masked frame (clients must mask), ``text`` as it is."""
        payload, mask = text.encode("utf-8", "surrogatepass"), os.urandom(4)
        size = len(payload)
        length = bytes([0x80 | size]) if size < 126 else struct.pack("!BH", 0x80 | 126, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x80 | opcode]) + length + mask + masked)

    def subscribe(self, **message: object) -> None:
        self.send(json.dumps({"type": "subscribe", **message}))

    async def read_to_the_end(self, timeout: float = 20) -> bytes:
        """Everything the server still sends, until it closes or resets the connection."""
        got = bytearray()
        async with asyncio.timeout(timeout):
            with contextlib.suppress(ConnectionError):
                while chunk := await self.reader.read(1 << 20):
                    got += chunk
        return bytes(got)

    def close(self) -> None:
        self.writer.transport.abort()


def tcp_entry(local_port: int, remote_port: int) -> tuple[str, int] | None:
    """(state, bytes in the send queue) of a TCP connection on this machine, from the kernel."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if (local, remote) == (local_port, remote_port):
            return fields[3], int(fields[4].split(":")[0], 16)
    return None


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of the unmasked server frames in ``data``; a cut-off tail is dropped."""
    out, at = [], 0
    while at + 2 <= len(data):
        size, start = data[at + 1] & 0x7F, at + 2
        if size == 126:
            size, start = struct.unpack("!H", data[at + 2 : at + 4])[0], at + 4
        elif size == 127:
            size, start = struct.unpack("!Q", data[at + 2 : at + 10])[0], at + 10
        if start + size > len(data):
            break
        out.append((data[at] & 0x0F, data[start : start + size]))
        at = start + size
    return out


@pytest.fixture
async def tight(aiohttp_client, settings):
    """An in-process server whose sockets may buffer 256 KiB and get 1 s to close."""
    update = {"ws_send_buffer_bytes": 256 * 1024, "ws_close_timeout_s": 1.0}
    test_client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update=update)), headers=ADMIN_HEADERS
    )
    async with asyncio.timeout(10):
        while not test_client.app[follow.LISTENER].connected:
            await asyncio.sleep(0.01)
    return test_client


async def _new_peer(client, before: set[peer.Peer]) -> peer.Peer:  # type: ignore[no-untyped-def]
    fanout = client.app[follow.HUB]
    async with asyncio.timeout(10):
        while not (fanout.peers - before):
            await asyncio.sleep(0.01)
    (found,) = fanout.peers - before
    return found


async def _app_with(client, sizes: list[int]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    app = await (await client.post("/api/v1/applications", json={"name": "big"})).json()
    for n, size in enumerate(sizes):
        body = {"application_id": app["id"], "name": f"c{n}", "config": {"pad": "x" * size}}
        resp = await client.post("/api/v1/configurations", json=body)
        assert resp.status == 201, await resp.text()
        app.setdefault("configurations", []).append(await resp.json())
    return app


async def test_a_non_reading_client_closed_with_4008_loses_its_connection_within_the_deadline(
    tight,
) -> None:
    app = await _app_with(tight, [10])
    cfg = app["configurations"][0]
    before = set(tight.app[follow.HUB].peers)
    raw = await RawSocket.open(tight.port)
    raw.subscribe(application_id=app["id"])
    me = await _new_peer(tight, before)
    for n in range(400):  # large changes until the server gives up on the socket
        body = {"name": cfg["name"], "config": {"n": n, "pad": "x" * 100_000}}
        assert (await tight.put(f"/api/v1/configurations/{cfg['id']}", json=body)).status == 200
        if me.close_code is not None:
            break
    assert me.close_code == peer.CLOSE_TOO_SLOW
    assert me.pending() <= me.limit
    # The client still reads nothing, yet the server lets go of the connection: it is no
    # longer established on the server's side within a few seconds (the deadline is 1 s).
    async with asyncio.timeout(10):
        while (entry := tcp_entry(tight.port, raw.port)) and entry[0] == ESTABLISHED:
            await asyncio.sleep(0.1)
    assert me not in tight.app[follow.HUB].peers
    await raw.read_to_the_end()  # and the client sees the end of it (EOF or a reset)
    raw.close()


async def test_repeated_subscribes_while_a_snapshot_is_pending_build_one_snapshot(
    aiohttp_client, settings
) -> None:
    roomy = settings.model_copy(update={"ws_send_buffer_bytes": 8 * 1024 * 1024})
    client = await aiohttp_client(app_mod.create_app(roomy), headers=ADMIN_HEADERS)
    big = await _app_with(client, [700_000] * 3)
    small = await (await client.post("/api/v1/applications", json={"name": "s"})).json()
    before = set(client.app[follow.HUB].peers)
    raw = await RawSocket.open(client.port)
    for _ in range(50):  # 50 bytes each; a snapshot of 2 MB each
        raw.subscribe(application_id=big["id"])
    raw.subscribe(application_id=small["id"])
    me = await _new_peer(client, before)
    async with asyncio.timeout(30):  # messages are handled in order: the last one is done
        while small["id"] not in me.subscriptions:
            await asyncio.sleep(0.05)
    assert me.close_code is None, "a slow reader is not punished for repeating itself"
    # The kernel may take a whole snapshot off the server's hands (and then another is built);
    # without coalescing, all 50 would be built and held: 100 MB.
    assert me.queued < 3 * 2_100_000, "the repeats were answered by the pending snapshot"
    assert me.pending() <= me.limit
    raw.close()


async def test_no_data_frame_follows_the_close_frame(client) -> None:
    app = await _app_with(client, [10])
    cfg = app["configurations"][0]
    raw = await RawSocket.open(client.port)
    raw.subscribe(application_id=app["id"])
    for n in range(20):
        body = {"name": cfg["name"], "config": {"n": n, "pad": "x" * 20_000}}
        await client.put(f"/api/v1/configurations/{cfg['id']}", json=body)
        if n == 10:
            raw.send("", opcode=0x8)  # the client closes while changes keep coming
    got = frames(await raw.read_to_the_end())
    opcodes = [opcode for opcode, _ in got]
    assert 0x8 in opcodes, "the server answered the close"
    assert opcodes.index(0x8) == len(opcodes) - 1, "nothing after the CLOSE frame"
    raw.close()


async def test_a_client_that_misses_heartbeats_with_unread_data_loses_its_connection(
    aiohttp_client, settings
) -> None:
    update = {"ws_heartbeat_s": 0.5, "ws_send_buffer_bytes": 16 * 1024 * 1024,
              "ws_close_timeout_s": 1.0}  # fmt: skip
    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update=update)), headers=ADMIN_HEADERS
    )
    app = await _app_with(client, [10])
    cfg = app["configurations"][0]
    before = set(client.app[follow.HUB].peers)
    raw = await RawSocket.open(client.port)
    raw.subscribe(application_id=app["id"])
    me = await _new_peer(client, before)
    for n in range(40):  # 4 MB the client never reads, then its pongs never come either
        body = {"name": cfg["name"], "config": {"n": n, "pad": "x" * 100_000}}
        await client.put(f"/api/v1/configurations/{cfg['id']}", json=body)
    async with asyncio.timeout(15):
        while (entry := tcp_entry(client.port, raw.port)) and entry[0] == ESTABLISHED:
            await asyncio.sleep(0.1)
    assert me not in client.app[follow.HUB].peers
    raw.close()
