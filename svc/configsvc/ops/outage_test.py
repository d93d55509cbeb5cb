"""An outage is two log lines, whatever the number of retries in between."""

from __future__ import annotations

import logging
import re

import pytest

from configsvc.ops import outage

log = logging.getLogger("configsvc.test.outage")


def test_an_outage_is_one_line_when_it_starts_and_one_when_it_ends(caplog) -> None:
    tracker = outage.Outage(log, "pruning")
    tracker.ok()  # the database was never away: nothing to say
    caplog.set_level(logging.WARNING, log.name)
    for attempt in range(5):
        tracker.failed(ConnectionRefusedError(f"attempt {attempt}"))
    tracker.ok()
    tracker.ok()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("pruning: database unavailable (ConnectionRefusedError('attempt 0'")
    assert re.fullmatch(r"pruning: database back after \d+\.\d s", lines[1])
    assert not any(r.exc_info for r in caplog.records), "no traceback per retry"


def test_the_retries_in_between_are_only_debug_lines(caplog) -> None:
    caplog.set_level(logging.DEBUG, log.name)
    tracker = outage.Outage(log, "listener")
    for _ in range(3):
        tracker.failed(OSError("down"))
    levels = [r.levelno for r in caplog.records]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]


def test_a_second_outage_is_reported_again_with_its_own_duration(
    caplog, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter([100.0, 102.5, 200.0, 200.25])
    monkeypatch.setattr(outage.time, "monotonic", lambda: next(clock))  # time cannot be caused
    caplog.set_level(logging.WARNING, log.name)
    tracker = outage.Outage(log, "flush")
    for _ in range(2):
        tracker.failed(OSError("down"))
        tracker.ok()
    ends = [r.getMessage() for r in caplog.records if "back after" in r.getMessage()]
    assert ends == ["flush: database back after 2.5 s", "flush: database back after 0.2 s"]
