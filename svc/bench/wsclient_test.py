import asyncio
import json
from collections.abc import Callable

from bench import wsclient


def test_parse_frames_takes_complete_frames_only() -> None:
    small = bytes([0x81, 2]) + b"hi"
    medium = bytes([0x81, 126]) + (300).to_bytes(2, "big") + b"x" * 300
    big = bytes([0x81, 127]) + (70000).to_bytes(8, "big") + b"y" * 70000
    buffer = bytearray(small + medium + big[:100])
    frames = wsclient.parse_frames(buffer)
    assert frames == [(wsclient.TEXT, b"hi"), (wsclient.TEXT, b"x" * 300)]
    buffer += big[100:]
    assert wsclient.parse_frames(buffer) == [(wsclient.TEXT, b"y" * 70000)]
    assert buffer == bytearray()


def test_client_frames_are_masked_with_the_length_encoded() -> None:
    assert wsclient.frame(wsclient.TEXT, b"ab") == bytes([0x81, 0x82, 0, 0, 0, 0]) + b"ab"
    assert wsclient.frame(wsclient.TEXT, b"z" * 200)[1:4] == bytes([0xFE, 0, 200])


async def test_subscriber_receives_broadcasts_from_the_bare_ceiling(
    ceiling: Callable[[str], str],
) -> None:
    url = ceiling("broadcast")
    port = int(url.rsplit(":", 1)[1])
    received: list[bytes] = []
    sub = await wsclient.connect("127.0.0.1", port, "/ws", lambda s, p, t: received.append(p))
    sub.send_text(json.dumps({"type": "subscribe"}))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    await reader.readuntil(b"\r\n\r\n")
    writer.close()
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.01)
    assert received == [b"hello"]
    assert sub.transport is not None
    sub.transport.close()
    assert await sub.closed == 1006


async def test_a_subscriber_connects_from_the_source_address_it_is_given(
    ceiling: Callable[[str], str],
) -> None:
    port = int(ceiling("broadcast").rsplit(":", 1)[1])
    sub = await wsclient.connect("127.0.0.1", port, "/ws", lambda s, p, t: None, "127.0.0.7")
    assert sub.transport is not None
    assert sub.transport.get_extra_info("sockname")[0] == "127.0.0.7"
    sub.transport.close()
