"""Log lines: JSON with LOG_FORMAT=json (a real server's, every line), the request id on every
line of a request, and no secret from a query string."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import conftest
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


def test_redacted_hides_secret_query_parameters_and_token_values() -> None:
    query = "limit=5&token=cfs_abc&Access_Token=x&api-key=k&cursor=c%3D&q=cfs_xyz&name=a%3Db"
    assert logs.redacted(query) == (
        "limit=5&token=[redacted]&Access_Token=[redacted]&api-key=[redacted]&cursor=c%3D"
        "&q=[redacted]&name=a%3Db"
    )
    assert logs.redacted("flag") == "flag"


def test_with_log_format_json_every_line_of_a_real_server_is_json(
    database_url: str, tmp_path: Path, admin_headers: dict[str, str]
) -> None:
    """gunicorn's own lines too, a worker killed among them; each request logged once at DEBUG,
    with its id, and a token in its query string redacted."""
    service = conftest.Service(database_url, 2, {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        service.start(stdout=stdout, stderr=stderr)
        try:
            secret = "cfs_" + "s3cr3t" * 6
            headers = {**admin_headers, "X-Request-Id": "req-json-1"}
            url = f"{service.url}/api/v1/applications?limit=5&token={secret}"
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)
            killed = service.worker_pids()[0]
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while killed in (pids := service.worker_pids()) or len(pids) < 2:
                assert time.monotonic() < deadline, "the killed worker was not replaced"
                time.sleep(0.05)
            service.wait_ready()
        finally:
            service.stop()
    lines = out.read_text().splitlines() + err.read_text().splitlines()
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not JSON: {line!r}")
    assert any(r["message"].startswith("serving http://") for r in records)
    assert any(
        r["logger"] == "gunicorn.error"
        and str(killed) in r["message"]
        and "SIGKILL" in r["message"]
        for r in records
    ), "the master says a worker was killed, in JSON"
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )
    requests = [r for r in records if r["logger"] == "configsvc.access"]
    mine = [r for r in requests if r["request_id"] == "req-json-1"]
    assert len(mine) == 1, "a request is logged once"
    assert mine[0]["message"] == ("GET /api/v1/applications?limit=5&token=[redacted] 200")
    assert all(r["request_id"] not in (None, "-") for r in requests)
    assert secret not in out.read_text() + err.read_text()
