"""The project-local PostgreSQL that `make run` starts when no DATABASE_URL is given."""

from __future__ import annotations

import os
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


def test_the_server_version_is_reported() -> None:
    bindir = pgcluster.find_bindir()
    assert bindir is not None
    version = pgcluster.Cluster(Path("/nonexistent"), 1, bindir).version()
    assert version.split(".")[0] in {"15", "16", "17", "18"}
