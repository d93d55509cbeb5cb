"""MAX_CONNECTIONS and slow clients, against a real ``python -m configsvc`` process."""

from __future__ import annotations

import asyncio

import aiohttp

from conftest import ADMIN_HEADERS


async def _get_until_ok(url: str) -> int:
    """Status of GET url, retried while the server still counts closed connections."""
    session = aiohttp.ClientSession(headers=ADMIN_HEADERS)
    async with session, asyncio.timeout(20):
        while True:
            async with session.get(url) as resp:
                if resp.status == 200:
                    return resp.status
            await asyncio.sleep(0.1)


async def test_past_max_connections_a_new_one_is_refused_503_and_rest_comes_back(
    service_factory,
) -> None:
    service = service_factory(max_connections="3", keepalive_timeout_s="30")
    idle = [await asyncio.open_connection("127.0.0.1", service.port) for _ in range(3)]
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    async with asyncio.timeout(10):  # refused at once, without a request being sent
        answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:100]
    assert b"Retry-After: 1" in answer
    assert b"application/problem+json" in answer
    for _reader, idle_writer in idle:
        idle_writer.close()
    assert await _get_until_ok(f"{service.url}/api/v1/applications") == 200


async def test_headers_that_never_finish_are_cut_off_by_the_keepalive_timeout(
    service_factory,
) -> None:
    service = service_factory(keepalive_timeout_s="1")
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    writer.write(b"GET /api/v1/applications HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    await writer.drain()
    async with asyncio.timeout(20):  # generous: the timeout itself is 1 s
        assert await reader.read() == b"", "closed without an answer"
    writer.close()
