"""Fixtures for the bench's own tests: a seeded-looking data directory, and a ceiling server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import dataset
from configsvc import settings
from configsvc.devtools import pgcluster


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = dataset.Dataset(
        ["01JDQ2Z8B6M4R1V3XK7N9P0TQA", "01JDQ2Z8B6M4R1V3XK7N9P0TQB"],
        [dataset.Config("01JDQ2Z8B6M4R1V3XK7N9P0TQC", "config-00", "01JDQ2Z8B6M4R1V3XK7N9P0TQA")],
    )
    data.write(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def ceiling() -> Iterator[object]:
    """``ceiling("hello")``: the base URL of a ``python -m bench.ceilings`` process of that
    kind, started on first use and shared by the session (they hold no state worth resetting).
    """
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}

    def start(kind: str) -> str:
        if kind in urls:
            return urls[kind]
        port = pgcluster.free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.ceilings", kind, "--port", str(port)],
                cwd=settings.SVC_DIR,
            )
        )
        pgcluster.wait_for_port(port, timeout=15)
        urls[kind] = f"http://127.0.0.1:{port}"
        return urls[kind]

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)
