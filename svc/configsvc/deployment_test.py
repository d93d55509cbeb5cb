"""What can be checked of compose.yaml and the Dockerfile without a Docker engine."""

from __future__ import annotations

import json
import re

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
