"""``python -m configsvc`` hands over to gunicorn with the settings' workers and address."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from configsvc import __main__ as main_mod
from configsvc import settings as settings_mod


def _serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, capture_output=True,
        text=True, timeout=timeout, env={**os.environ, **env},
    )  # fmt: skip


def test_gunicorn_gets_the_workers_and_the_address() -> None:
    s = settings_mod.Settings(workers=3, host="0.0.0.0", port=9001, _env_file=None)
    argv = main_mod.gunicorn_argv(s)
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:9001"
    assert argv[argv.index("--worker-class") + 1] == "configsvc.worker.Worker"
    assert main_mod.gunicorn_argv(s, 7)[argv.index("--bind") + 1] == "fd://7"


def test_an_unreachable_database_is_one_line_not_a_traceback() -> None:
    url = "postgresql://nobody:hunter2@127.0.0.1:1,127.0.0.1:2/none?target_session_attrs=read-write"
    result = _serve({"DATABASE_URL": url, "DB_START_TIMEOUT_S": "1.2"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    waiting = "waiting for a primary at 127.0.0.1:1, 127.0.0.1:2"
    assert lines[0].startswith(waiting), "it waits, saying which hosts it tried"
    assert lines[-1].startswith("cannot use the database (127.0.0.1:1, 127.0.0.1:2):")
    assert "hunter2" not in result.stderr


def test_without_database_url_it_says_to_set_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd="/", capture_output=True, text=True,
        timeout=30, env=env,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == settings_mod.NO_DATABASE_URL


def test_a_taken_port_is_one_line_naming_the_setting(database_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve({"DATABASE_URL": database_url, "PORT": str(port)})
    assert result.returncode == 1
    assert result.stderr.strip().startswith(
        f"invalid setting PORT: cannot listen on 127.0.0.1:{port}"
    )
    assert "\n" not in result.stderr.strip()


def test_an_unresolvable_host_is_one_line_naming_the_setting(database_url: str) -> None:
    result = _serve({"DATABASE_URL": database_url, "HOST": "nowhere.invalid"})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("invalid setting HOST: 'nowhere.invalid'")
