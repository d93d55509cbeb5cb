"""The README's shell examples run as printed, in order, against a real server.

Every ```sh block marked ``<!-- README test: ... -->`` runs with bash (``-euo pipefail``) in a
directory laid out like the top of a checkout, with the README's address replaced by the test
server's: a README that drifts from what works fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from configsvc import settings as settings_mod

README = settings_mod.SVC_DIR.parent / "README.md"
MARK = "<!-- README test: run in order against a real server -->"
ADDRESS = "http://127.0.0.1:8080"


def marked_blocks(text: str) -> list[str]:
    return re.findall(re.escape(MARK) + r"\n```sh\n(.*?)```", text, re.DOTALL)


def greeter_source(text: str) -> str:
    after = text.index("Save this as `greeter.py`")
    found = re.search(r"```python\n(.*?)```", text[after:], re.DOTALL)
    assert found is not None
    return found.group(1)


def test_the_marked_blocks_are_found() -> None:
    blocks = marked_blocks(README.read_text())
    assert len(blocks) == 4
    assert all(ADDRESS in block for block in blocks)


def test_the_readme_examples_run_in_order(service_factory, admin_token, tmp_path: Path) -> None:
    text = README.read_text()
    service = service_factory()
    # svc/ as make run leaves it: the virtualenv, and the admin token's secret in .admin-token.
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".venv").symlink_to(settings_mod.SVC_DIR / ".venv")
    (tmp_path / "svc" / ".admin-token").write_text(admin_token + "\n")
    (tmp_path / "greeter.py").write_text(greeter_source(text))
    env = {**os.environ, "CONFIGSVC_URL": service.url}
    outputs = []
    for block in marked_blocks(text):
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.replace(ADDRESS, service.url)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        report = f"{block}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        assert result.returncode == 0, report
        outputs.append(result.stdout + result.stderr)
    rest, schemas, greeter, cli = outputs
    assert "HTTP/1.1 201 Created" in rest
    assert '"rate": 200' in rest or '"rate":200' in rest
    assert rest.rstrip().endswith("204\n204")
    compact = schemas.replace(" ", "")
    assert '"type":"urn:configsvc:problem:schema"' in compact
    assert '{"field":"config/limits/rate","keyword":"maximum"' in compact
    assert '"valid":true,"errors":[],"status":200' in compact
    assert "409\n" in schemas
    assert '"schema_status":"invalid"' in compact
    assert "hello" in greeter
    assert "settings: {'greeting': 'hello'} -> {'greeting': 'bonjour'}" in greeter
    assert "rejected settings" in greeter
    assert '"rate": 200' in cli, "get shows the config the REST walk-through left"
    assert '"new":{"rate":8}' in cli.replace(" ", "")
    assert '"path":"/config/rate",\n"value":9' in cli.replace(" ", "")
