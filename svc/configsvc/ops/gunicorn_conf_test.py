"""gunicorn's hooks: a dead worker's live gauges go, and the metrics directory goes on exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, multiprocess

from configsvc.ops import gunicorn_conf

# A worker's metrics, as prometheus_client writes them in multiprocess mode.
WORKER = """
from prometheus_client import Counter, Gauge
Gauge("open_sockets", "x", multiprocess_mode="livesum").set(3)
Counter("requests", "x").inc(5)
"""


def _run_worker(directory: Path) -> int:
    env = {**os.environ, gunicorn_conf.MULTIPROC_ENV: str(directory)}
    subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)
    return int(next(directory.glob("gauge_livesum_*.db")).stem.rsplit("_", 1)[1])


def _samples(directory: Path) -> dict[str, float]:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return {s.name: s.value for m in registry.collect() for s in m.samples}


def test_a_dead_workers_live_gauges_stop_counting_but_its_counters_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = _run_worker(tmp_path)
    assert _samples(tmp_path) == {"open_sockets": 3.0, "requests_total": 5.0}
    monkeypatch.setenv(gunicorn_conf.MULTIPROC_ENV, str(tmp_path))
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=pid))
    assert not list(tmp_path.glob("gauge_livesum_*.db"))
    assert _samples(tmp_path) == {"requests_total": 5.0}


def test_without_a_metrics_directory_a_dead_worker_is_nothing_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(gunicorn_conf.MULTIPROC_ENV, raising=False)
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=os.getpid()))  # does not raise


def test_on_exit_removes_the_directory_made_for_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = tmp_path / f"{gunicorn_conf.TEMP_PREFIX}abc"
    made.mkdir()
    _run_worker(made)
    monkeypatch.setenv(gunicorn_conf.MULTIPROC_ENV, str(made))
    gunicorn_conf.on_exit(None)
    assert not made.exists()


def test_on_exit_leaves_an_operators_own_directory_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_worker(tmp_path)
    monkeypatch.setenv(gunicorn_conf.MULTIPROC_ENV, str(tmp_path))
    gunicorn_conf.on_exit(None)
    assert list(tmp_path.glob("*.db")), "a directory the operator chose is theirs to clean"
