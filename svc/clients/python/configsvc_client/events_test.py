from __future__ import annotations

import asyncio

import pytest

from configsvc_client import errors, events


def change(revision: int) -> events.ChangeEvent:
    return events.ChangeEvent("limits", None, {"rate": revision}, revision, "created")


async def test_a_stream_drains_then_ends() -> None:
    registry: set[events.EventStream] = set()
    stream = events.EventStream(registry, maxsize=2)
    stream.push(change(1))
    stream.push(change(2))
    stream.end()  # the queue is full: nothing to wake, the stream ends once drained
    assert registry == set()
    assert [e.revision async for e in stream] == [1, 2]


async def test_a_waiting_consumer_is_woken_by_the_end() -> None:
    stream = events.EventStream(set(), maxsize=2)
    consumer = asyncio.create_task(anext(stream, None))
    await asyncio.sleep(0)
    stream.end()
    async with asyncio.timeout(5):
        assert await consumer is None


async def test_overflow_is_raised_after_what_was_kept() -> None:
    registry: set[events.EventStream] = set()
    stream = events.EventStream(registry, maxsize=1)
    stream.push(change(1))
    stream.push(change(2))
    assert stream.overflowed
    assert registry == set()
    assert (await anext(stream)).revision == 1
    with pytest.raises(errors.EventsOverflow):
        await anext(stream)
