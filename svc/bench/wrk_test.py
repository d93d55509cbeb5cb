import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import load, scenarios, wrk


def test_script_fills_paths_and_bodies() -> None:
    lua = wrk.script(scenarios.PUT)
    assert '"/api/v1/configurations/" .. c.id .. ""' in lua
    assert "c.name" in lua
    assert "tostring(seq)" in lua
    assert "nil, nil)" in wrk.script(scenarios.HELLO)
    assert 'os.getenv("BENCH_TOKEN")' in lua, "the token comes from the environment"


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_reports_one_json_line(ceiling: Callable[[str], str], data_dir: Path) -> None:
    url = ceiling("hello")
    argv = wrk.argv(scenarios.HELLO, url, data_dir, 1, 4, 1)
    out = subprocess.run(argv, cwd=data_dir, capture_output=True, text=True, check=True)
    result = load.parse(out.stdout)
    assert result.requests > 100
    assert result.errors == 0
