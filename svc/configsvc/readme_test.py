"""The shell examples of README.md and ``svc/docs/*.md`` run as printed, in order, on a server.

Every ```sh block of README.md and of each page under ``svc/docs/`` runs, a page's blocks one
after the other in one bash (``-euo pipefail``), as a reader pasting them into one shell would,
in a directory laid out like the top of a checkout. The server listens on a port that is not
the default 8080, and the blocks get only ``PORT`` (no ``CONFIGSVC_URL``, no token): an example
that hard-codes the port or relies on a variable set elsewhere fails here. A block this test
cannot run is marked ``<!-- README test: skip: why -->`` right above it, and must say why.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from configsvc import settings as settings_mod

README = settings_mod.SVC_DIR.parent / "README.md"
DOCS = settings_mod.SVC_DIR / "docs"
SKIP = re.compile(r"<!-- README test: skip: (?P<why>[^>]*\S)\s*-->\n$")
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
SEPARATOR = "=== README test: next block ==="


def pages() -> list[Path]:
    """README first, then the pages in name order (api.md leaves billing for python-client.md)."""
    return [README, *sorted(DOCS.glob("*.md"))]


def blocks(text: str) -> tuple[list[str], list[str]]:
    """The blocks to run, and the reasons given for those skipped."""
    run, skipped = [], []
    for found in BLOCK.finditer(text):
        mark = SKIP.search(text, 0, found.start())
        if mark is not None and mark.end() == found.start():
            skipped.append(mark["why"])
        else:
            run.append(found.group(1))
    return run, skipped


def greeter_source() -> str:
    text = (DOCS / "python-client.md").read_text()
    after = text.index("Save this as `greeter.py`")
    found = re.search(r"```python\n(.*?)```", text[after:], re.DOTALL)
    assert found is not None
    return found.group(1)


def test_every_block_runs_or_says_why_not() -> None:
    counts = {}
    for page in pages():
        text = page.read_text()
        run, skipped = blocks(text)
        assert all(len(why) > 20 for why in skipped), (page.name, skipped)
        assert len(run) + len(skipped) == text.count("```sh\n"), page.name
        counts[page.name] = (len(run), len(skipped))
    assert counts["README.md"] == (3, 2)
    assert counts["api.md"] == (4, 0)
    assert counts["python-client.md"] == (2, 1)


def test_no_runnable_block_names_the_default_port() -> None:
    for page in pages():
        for block in blocks(page.read_text())[0]:
            assert re.search(r"8080(?!\})", block) is None, (page.name, block)


def run_page(page: Path, cwd: Path, env: dict[str, str]) -> list[str]:
    """The page's blocks in one shell; what each printed."""
    script = f"\necho '{SEPARATOR}'\n".join(blocks(page.read_text())[0])
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    report = f"{page.name}\n{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, report
    # stderr is not split by block: it goes with the page's last block.
    outputs = result.stdout.split(SEPARATOR + "\n")
    outputs[-1] += result.stderr
    return outputs


def test_the_examples_run_in_order_on_another_port(
    service_factory, admin_token, tmp_path: Path
) -> None:
    service = service_factory()
    assert service.port != 8080
    # svc/ as make run leaves it: the virtualenv, and the admin token's secret in .admin-token.
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".venv").symlink_to(settings_mod.SVC_DIR / ".venv")
    (tmp_path / "svc" / ".admin-token").write_text(admin_token + "\n")
    (tmp_path / "greeter.py").write_text(greeter_source())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIGSVC_")}
    env["PORT"] = str(service.port)
    runnable = [page for page in pages() if blocks(page.read_text())[0]]
    out = {page.name: run_page(page, tmp_path, env) for page in runnable}
    first, client, canary = out["README.md"]
    assert '"name":"hello"' in first
    assert "{'greeting': 'hi'}" in client
    compact = canary.replace(" ", "")
    assert '"state":"running"' in compact, "started"
    assert '"state":"aborted"' in compact
    assert "greetinglongerthan10characters" in compact, "the client's own words"
    rest, going_back, cli_back, schemas = out["api.md"]
    assert "HTTP/1.1 201 Created" in rest
    assert '"rate":200' in rest.replace(" ", "")
    assert rest.rstrip().endswith("204\n204")
    assert '"op":"add","path":"/burst"' in going_back.replace(" ", "")
    assert '"deleted":["' in going_back.replace(" ", "")
    assert '"version"' in cli_back
    compact = schemas.replace(" ", "")
    assert '"type":"urn:configsvc:problem:schema"' in compact
    assert '{"field":"config/limits/rate","keyword":"maximum"' in compact
    assert '"valid":true,"errors":[],"status":200' in compact
    assert "409\n" in schemas
    assert '"schema_status":"invalid"' in compact
    greeter, cli = out["python-client.md"]
    assert "hello" in greeter
    assert "settings: {'greeting': 'hello'} -> {'greeting': 'bonjour'}" in greeter
    assert "rejected settings" in greeter + cli  # logged: on stderr, which ends the page
    assert '"rate": 200' in cli, "get shows the config the REST walk-through left"
    assert '"new":{"rate":8}' in cli.replace(" ", "")
    assert '"path":"/config/rate",\n"value":9' in cli.replace(" ", "")
