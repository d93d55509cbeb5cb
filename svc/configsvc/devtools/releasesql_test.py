"""The release's SQL is collected from the code, written, and read back as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from configsvc.db import migrations
from configsvc.devtools import releasesql
from configsvc.store import applications

SOURCE = '''
"""Docstring: SELECT nothing here."""
GET = """
SELECT * FROM t WHERE id = $1
"""
NOT_SQL = "Selecting"


async def f(conn, name):
    await conn.execute("UPDATE t SET n = n + 1")
    await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
'''


def test_statements_are_named_after_their_constant_or_line() -> None:
    assert releasesql.statements_in("m.py", SOURCE) == [
        releasesql.Statement("m.py:GET", "SELECT * FROM t WHERE id = $1"),
        releasesql.Statement("m.py:10", "UPDATE t SET n = n + 1"),
    ]


def test_a_written_snapshot_reads_back_the_same(tmp_path: Path) -> None:
    releasesql.main(["--output", str(tmp_path / "s.sql")])
    snapshot = releasesql.read(tmp_path / "s.sql")
    assert snapshot == releasesql.collect()
    assert snapshot.migration == migrations.discover()[-1].version
    by_name = {s.name: s.sql for s in snapshot.statements}
    assert by_name["configsvc/store/applications.py:GET"] == applications.GET.strip()
    assert not any("_test.py" in name or "devtools" in name for name in by_name)


def test_a_release_is_read_from_its_commit(tmp_path: Path) -> None:
    found = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.skip("not a git checkout: --rev needs the history")
    head = found.stdout.strip()
    releasesql.main(["--rev", "HEAD", "--output", str(tmp_path / "s.sql")])
    assert f"from HEAD, commit {head[:12]}" in (tmp_path / "s.sql").read_text()
    assert releasesql.read(tmp_path / "s.sql") == releasesql.collect("HEAD")


def test_a_file_without_its_last_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s.sql").write_text("-- name: x\nSELECT 1;\n")
    with pytest.raises(ValueError, match="last migration"):
        releasesql.read(tmp_path / "s.sql")
