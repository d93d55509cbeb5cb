"""The gunicorn worker: uvloop is handed plain sockets, so shutdown closes each fd once; the
listening socket keeps its full backlog."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster


def test_serving_is_announced_once_listening_and_shutdown_logs_no_socket_error(
    database_url: str,
) -> None:
    port = pgcluster.free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, env=env,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.strip() == f"serving http://127.0.0.1:{port} with 2 worker(s)"
        # The port is bound when that line is out: a request now is answered, not refused.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as resp:
            assert resp.status == 200
        connected = 0
        while connected < 2:  # both workers up, so both shut down below
            connected += "change listener connected" in proc.stderr.readline()
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    finally:  # a failed check leaves no server (gunicorn and its workers) behind
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    assert proc.returncode == 0
    assert "Bad file descriptor" not in rest
    assert "Error while closing socket" not in rest


def test_a_worker_stopped_while_it_boots_exits_instead_of_being_killed(
    database_url: str,
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": "0", "LOG_LEVEL": "INFO"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, env=env,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 30
    while not (children.exists() and (pids := children.read_text().split())):
        assert time.monotonic() < deadline, "no worker started"
        time.sleep(0.005)
    # The worker is still importing the app: a stop now must not be lost until the master's
    # graceful timeout kills it.
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert f"Worker exiting (pid: {pids[0]})" in rest  # not killed at the graceful timeout


@pytest.mark.skipif(
    shutil.which("ss") is None, reason="ss is not installed (apt-get install iproute2)"
)
def test_a_reconnecting_fleet_queues_up_to_the_full_backlog(database_url: str) -> None:
    """Not aiohttp's 128: a fleet reconnecting at once (a deploy, a failover) is accepted, not
    left retrying its SYNs a second or more later."""
    port = pgcluster.free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WORKERS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, env=env,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # Answering means aiohttp's site has started, and with it listen(128).
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/readyz"):
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.05)
        wanted = min(2048, int(Path("/proc/sys/net/core/somaxconn").read_text()))
        assert _backlog(port) == wanted
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _backlog(port: int) -> int:
    """The listening socket's backlog (ss's Send-Q), given a few seconds to leave 128."""
    deadline = time.monotonic() + 5
    while True:
        out = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
        if out[2] != "128" or time.monotonic() > deadline:
            return int(out[2])
        time.sleep(0.1)
