"""``python -m configsvc`` hands over to gunicorn with the settings' workers and address."""

from __future__ import annotations

import os
import subprocess
import sys

from configsvc import __main__ as main_mod
from configsvc import settings as settings_mod


def test_gunicorn_gets_the_workers_and_the_address() -> None:
    s = settings_mod.Settings(workers=3, host="0.0.0.0", port=9001, _env_file=None)
    argv = main_mod.gunicorn_argv(s)
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:9001"
    assert "aiohttp.GunicornUVLoopWebWorker" in argv


def test_an_unreachable_database_is_one_line_not_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, capture_output=True,
        text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("cannot use the database:")
