"""One load run: the result line both generators print, and a short real run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import cpus, load, scenarios


def test_requests_per_second_and_the_json_round_trip() -> None:
    result = load.LoadResult(requests=500, duration_s=2.0, p50_ms=0.4, p99_ms=3.5, errors=1)
    assert result.rps == 250.0
    written = result.as_json()
    assert written["rps"] == 250.0
    assert load.LoadResult.from_json(written) == result
    assert load.LoadResult(0, 0.0, 0.0, 0.0, 0).rps == 0.0, "no division by a zero duration"


def test_the_result_line_is_found_among_the_generators_chatter() -> None:
    line = {"requests": 7, "duration_s": 1.0, "p50_ms": 1.0, "p99_ms": 2.0, "errors": 0}
    stdout = f"Running 1s test\n  2 threads\n{load.MARKER}{json.dumps(line)}\ndone\n"
    assert load.parse(stdout) == load.LoadResult(7, 1.0, 1.0, 2.0, 0)
    with pytest.raises(RuntimeError, match="printed no result:\nsegfault"):
        load.parse("segfault")


def test_the_generator_is_wrk_when_installed() -> None:
    assert load.generator() == ("wrk" if shutil.which("wrk") else "asyncio")


def test_a_short_run_against_the_hello_ceiling_measures_requests(
    ceiling: Callable[[str], str], data_dir: Path
) -> None:
    result = load.measure(scenarios.HELLO, ceiling("hello"), data_dir, 0.5, cpus.plan(), 4)
    assert result.requests > 0
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
