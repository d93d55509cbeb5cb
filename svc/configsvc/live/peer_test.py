"""Frames built once are valid WebSocket frames for any client."""

from __future__ import annotations

import struct

import pytest

from configsvc.live import peer


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
