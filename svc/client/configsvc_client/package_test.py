from __future__ import annotations

import subprocess
import sys


def test_the_client_imports_without_the_database_driver() -> None:
    code = (
        "import sys, configsvc_client, configsvc_client.cli\n"
        "heavy = {'asyncpg', 'pydantic_settings'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_command_line_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "configsvc_client", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "watch" in result.stdout
