import asyncio
from collections.abc import Callable
from pathlib import Path

from bench import dataset, load, loadgen, scenarios


async def test_loadgen_measures_the_hello_ceiling(
    ceiling: Callable[[str], str], data_dir: Path
) -> None:
    url = ceiling("hello")
    result = await loadgen.run(url, scenarios.HELLO, dataset.Dataset.read(data_dir), 0.5, 4)
    assert result.requests > 50
    assert result.errors == 0
    assert 0 < result.p50_ms <= result.p99_ms
    assert 0.45 < result.duration_s < 3


async def test_loadgen_counts_http_errors_as_errors(
    ceiling: Callable[[str], str], data_dir: Path
) -> None:
    url = ceiling("hello")  # has no /api/v1/...: every request is a 404
    result = await loadgen.run(url, scenarios.GET_CONFIG, dataset.Dataset.read(data_dir), 0.3, 2)
    assert result.requests > 0
    assert result.errors == result.requests


def test_requests_carry_a_complete_body(data_dir: Path) -> None:
    maker = loadgen.Requests(scenarios.PUT, "h:1", dataset.Dataset.read(data_dir))
    raw = maker.next()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"PUT /api/v1/configurations/01JDQ2Z8B6M4R1V3XK7N9P0TQC HTTP/1.1")
    assert f"Content-Length: {len(body)}".encode() in head


def test_requests_carry_the_token_from_the_environment(data_dir: Path, monkeypatch) -> None:
    data = dataset.Dataset.read(data_dir)
    assert b"Authorization" not in loadgen.Requests(scenarios.GET_CONFIG, "h:1", data).next()
    monkeypatch.setenv(load.TOKEN_ENV, "cfs_bench")
    raw = loadgen.Requests(scenarios.GET_CONFIG, "h:1", data).next()
    assert b"\r\nAuthorization: Bearer cfs_bench\r\n" in raw


async def test_read_response_returns_status_and_consumes_the_body() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 204 No\r\n\r\n")
    assert await loadgen.read_response(reader) == (201, b"{}")
    assert await loadgen.read_response(reader) == (204, b"")


def test_parse_finds_the_result_line() -> None:
    result = load.parse(
        'noise\nBENCH_JSON {"requests":10,"duration_s":2,"p50_ms":1,"p99_ms":3,"errors":0}\n'
    )
    assert result.rps == 5
    assert load.LoadResult.from_json(result.as_json()) == result


async def test_loadgen_can_stop_after_a_fixed_count(
    ceiling: Callable[[str], str], data_dir: Path
) -> None:
    url = ceiling("hello")
    data = dataset.Dataset.read(data_dir)
    result = await loadgen.run(url, scenarios.HELLO, data, 30, 4, total=50)
    assert result.requests == 50


def test_every_scenario_of_the_bench_runs_without_wrk_too() -> None:
    defined = {v.name for v in vars(scenarios).values() if isinstance(v, scenarios.Scenario)}
    assert defined == set(loadgen.BY_NAME)
