"""``python -m configsvc_client`` runs the command line."""

from __future__ import annotations

import subprocess
import sys


def test_the_command_line_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "configsvc_client", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "watch" in result.stdout
