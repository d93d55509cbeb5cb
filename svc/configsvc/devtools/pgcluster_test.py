"""The project-local PostgreSQL that `make run` starts when no DATABASE_URL is given."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster


def test_database_url_wins_over_the_local_cluster() -> None:
    s = settings_mod.Settings(database_url="postgresql://elsewhere/db", _env_file=None)
    assert pgcluster.ensure_database_url(s) == "postgresql://elsewhere/db"


def test_postgres_binaries_are_found() -> None:
    bindir = pgcluster.find_bindir()
    assert bindir is not None
    assert (bindir / "initdb").exists()


def test_start_status_and_stop_a_local_cluster() -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="configsvc-local-"))  # reachable by any user
    tmp_path.chmod(0o755)
    env = {
        **os.environ,
        "LOCAL_PG_DIR": str(tmp_path / "pgdata"),
        "LOCAL_PG_PORT": str(pgcluster.free_port()),
    }
    env.pop("DATABASE_URL", None)

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "configsvc.devtools.pgcluster", command],
            cwd=settings_mod.SVC_DIR, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    started = run("start")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url == f"postgresql://postgres@127.0.0.1:{env['LOCAL_PG_PORT']}/configsvc"
    assert "local PostgreSQL in" in started.stderr
    assert run("start").returncode == 0, "starting again reuses the running cluster"
    assert "running" in run("status").stdout
    assert run("stop").returncode == 0
    assert "stopped" in run("status").stdout
    shutil.rmtree(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_as_root_a_data_directory_the_server_user_cannot_reach_moves(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    s = settings_mod.Settings(local_pg_dir=private / "pgdata", _env_file=None)
    cluster = pgcluster.local_cluster(s)
    assert str(cluster.datadir).startswith("/var/tmp/configsvc-pgdata-")


def test_a_broken_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "PG_VERSION").write_text("15\n")  # looks initialised, is not
    bindir = pgcluster.find_bindir()
    assert bindir is not None
    cluster = pgcluster.Cluster(tmp_path, pgcluster.free_port(), bindir)
    if os.geteuid() == 0:
        tmp_path.chmod(0o777)
    with pytest.raises(pgcluster.ClusterError, match="did not start"):
        cluster.start()
