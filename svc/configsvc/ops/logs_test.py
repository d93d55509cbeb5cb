"""Log lines: JSON with LOG_FORMAT=json, and the request id on every line of a request."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from configsvc.ops import logs


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """What the root logger writes as LOG_FORMAT=json configures it, at DEBUG."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    logs.configure("DEBUG", "json")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_json_lines_carry_the_request_id_route_and_status(client, lines) -> None:
    resp = await client.get("/api/v1/applications/01JDQ2Z8B6M4R1V3XK7N9P0TQS",
                            headers={"X-Request-Id": "req-42"})  # fmt: skip
    assert resp.status == 404
    await client.get("/api/v1/applications", headers={"X-Request-Id": "bad id {forged}"})
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    access = [r for r in records if r["logger"] == "configsvc.access"]
    first, second = access[0], access[1]
    assert first["request_id"] == "req-42"
    assert first["route"] == "/api/v1/applications/{id}"
    assert first["status"] == 404
    assert first["method"] == "GET"
    assert first["level"] == "DEBUG"
    assert isinstance(first["pid"], int)
    assert first["time"].endswith("Z")
    assert len(second["request_id"]) == 26, "a malformed id is replaced by a fresh one"


def test_text_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = logs.REQUEST_ID.set("r-1")
    try:
        logs.RequestIdFilter().filter(record)
    finally:
        logs.REQUEST_ID.reset(token)
    assert "[r-1] hello" in logging.Formatter(logs.TEXT_FORMAT).format(record)


def test_exceptions_are_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]
    assert json.loads(line)["request_id"] is None
