"""``make run`` / ``make migrate`` / ``make db*``: the local PostgreSQL, then the real command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def local() -> Iterator[Run]:
    """``local(*args)`` runs ``python -m configsvc.devtools.local`` on a cluster of its own."""
    tmp = Path(tempfile.mkdtemp(prefix="configsvc-local-"))  # reachable by any user
    tmp.chmod(0o755)
    env = {**os.environ, "LOCAL_PG_DIR": str(tmp / "pgdata"),
           "LOCAL_PG_PORT": str(pgcluster.free_port())}  # fmt: skip
    env.pop("DATABASE_URL", None)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "configsvc.devtools.local", *args],
            cwd=settings_mod.SVC_DIR, env={**env, **extra}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    run.env = env  # type: ignore[attr-defined]
    yield run
    run("remove")
    shutil.rmtree(tmp, ignore_errors=True)


def test_start_status_stop_and_remove_a_local_cluster(local: Run) -> None:
    port = local.env["LOCAL_PG_PORT"]  # type: ignore[attr-defined]
    started = local("start")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"postgresql://postgres@127.0.0.1:{port}/configsvc"
    assert started.stderr.count("local PostgreSQL") == 1, "the notice is printed once"
    assert "keeps running" in started.stderr
    again = local("start")
    assert again.returncode == 0
    assert "reusing" in again.stderr
    assert "running" in local("status").stdout
    assert local("stop").returncode == 0
    assert "stopped" in local("status").stdout
    assert "not running" in local("stop").stdout
    removed = local("remove")
    assert "removed" in removed.stdout
    assert not Path(local.env["LOCAL_PG_DIR"]).exists()  # type: ignore[attr-defined]


def test_run_hands_the_command_the_database_url(local: Run) -> None:
    result = local("run", "configsvc.db.migrations", "status")
    assert result.returncode == 0, result.stderr
    assert "0001_" in result.stdout
    assert "pending" in result.stdout
    applied = local("run", "configsvc.db.migrations", "apply")
    assert "database is up to date" in applied.stdout
    assert "pending" not in local("run", "configsvc.db.migrations", "status").stdout


def test_a_taken_local_port_names_the_setting(local: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = local("start", LOCAL_PG_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"LOCAL_PG_PORT={port} is taken")


def test_run_needs_a_module(local: Run) -> None:
    result = local("run")
    assert result.returncode == 2
    assert "run needs a module" in result.stderr


def test_without_database_url_the_migrations_command_says_to_set_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "configsvc.db.migrations", "status"], cwd="/",
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == settings_mod.NO_DATABASE_URL
