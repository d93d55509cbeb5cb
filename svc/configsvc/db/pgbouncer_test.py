"""Behind PgBouncer in transaction mode: REST writes and a live subscriber, for real.

The service's pool goes through PgBouncer (DB_PGBOUNCER=true: no named prepared statements)
while each worker's listener and the migrations use LISTEN_DATABASE_URL, a direct connection:
LISTEN and session advisory locks do not survive transaction pooling. Without it, start-up
refuses (and a worker started anyway is not ready, saying why).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import conftest
from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster
from configsvc.live import follow, hearing

PGBOUNCER = shutil.which("pgbouncer") or next(
    (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
)

CONFIG = """
[databases]
* = host=127.0.0.1 port={pg_port} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
"""


@pytest.fixture
def pgbouncer(pg_cluster: pgcluster.Cluster | None) -> Iterator[int]:
    """PgBouncer in transaction mode in front of the test cluster; yields its port."""
    if PGBOUNCER is None:
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    if pg_cluster is None:
        pytest.skip("TEST_DATABASE_URL given: no local cluster to put PgBouncer in front of")
    tmp = Path(tempfile.mkdtemp(prefix="configsvc-pgbouncer-"))
    tmp.chmod(0o755)  # readable by the unprivileged user it runs as when we are root
    port = pgcluster.free_port()
    ini = tmp / "pgbouncer.ini"
    ini.write_text(CONFIG.format(pg_port=pg_cluster.port, port=port))
    ini.chmod(0o644)
    user = "nobody" if os.geteuid() == 0 else None  # it refuses to run as root
    proc = subprocess.Popen([PGBOUNCER, str(ini)], user=user)
    try:
        pgcluster.wait_for_port(port, timeout=10)
        yield port
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


async def _status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as resp:
        return resp.status


def _via(url: str, port: int) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}").geturl()


async def test_writes_and_a_subscriber_work_through_pgbouncer(
    service_factory, database_url: str, pgbouncer: int, admin_headers: dict[str, str]
) -> None:
    service = service_factory(
        workers=2, database_url=_via(database_url, pgbouncer), listen_database_url=database_url,
        db_pgbouncer="true", db_pool_min="5",
    )  # fmt: skip
    api = f"{service.url}/api/v1"
    async with aiohttp.ClientSession(headers=admin_headers) as http:
        async with http.post(f"{api}/applications", json={"name": "pooled"}) as resp:
            assert resp.status == 201
            app = await resp.json()
        async with http.ws_connect(f"{api}/ws") as ws:
            await ws.send_json({"type": "subscribe", "application_id": app["id"]})
            assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
            body = {"application_id": app["id"], "name": "db", "config": {"n": 0}}
            async with http.post(f"{api}/configurations", json=body) as resp:
                assert resp.status == 201
                cfg = await resp.json()
            # Many statements over few server connections: a named prepared statement would
            # be missing on some of them.
            for n in range(1, 21):
                put = {"name": "db", "config": {"n": n}}
                async with http.put(f"{api}/configurations/{cfg['id']}", json=put) as resp:
                    assert resp.status == 200, await resp.text()
                async with http.get(f"{api}/configurations/{cfg['id']}") as resp:
                    assert (await resp.json())["config"] == {"n": n}
            # Concurrent reads: each worker's pooled connections take turns on two servers.
            for _ in range(5):
                statuses = await asyncio.gather(*(_status(http, f"{api}/configurations/{cfg['id']}")
                                                  for _ in range(30)))  # fmt: skip
                assert statuses == [200] * 30
            seen = [(await ws.receive_json(timeout=10))["configuration"]["config"]["n"]
                    for _ in range(21)]  # fmt: skip
            assert seen == list(range(21))


def _refused(database_url: str, env: dict[str, str]) -> str:
    """Start ``python -m configsvc`` and return what it said on refusing to start."""
    service = conftest.Service(database_url, 1, env)
    proc = subprocess.run(
        [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, env=service.env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode != 0, "it started"
    assert "Traceback" not in proc.stderr
    return proc.stderr.strip()


def test_a_listener_through_pgbouncer_refuses_to_start(database_url: str, pgbouncer: int) -> None:
    """DATABASE_URL through PgBouncer and no LISTEN_DATABASE_URL: the change listener would
    hear no NOTIFY, and serve changes seconds late (from its probe) while /readyz said 200."""
    said = _refused(_via(database_url, pgbouncer), {})
    assert said.startswith("cannot follow changes through DATABASE_URL:"), said
    assert "LISTEN_DATABASE_URL" in said
    assert "PgBouncer" in said
    assert "postgres@" not in said, "no URL (a credential may be in it) in the message"
    said = _refused(database_url, {"LISTEN_DATABASE_URL": _via(database_url, pgbouncer)})
    assert said.startswith("cannot follow changes through LISTEN_DATABASE_URL:"), said


def test_db_pgbouncer_without_a_direct_listener_url_refuses_to_start(database_url: str) -> None:
    said = _refused(database_url, {"DB_PGBOUNCER": "true"})
    assert "DB_PGBOUNCER=true needs LISTEN_DATABASE_URL" in said


async def test_a_worker_whose_listener_hears_nothing_is_not_ready_and_says_why(
    database_url: str, pgbouncer: int, aiohttp_client: Any
) -> None:
    # The worker's app started some other way than python -m configsvc (which refuses it).
    settings = settings_mod.Settings(
        database_url=database_url, listen_database_url=_via(database_url, pgbouncer), port=0,
        db_pool_min=1, db_pool_max=5, _env_file=None,
    )  # fmt: skip
    client = await aiohttp_client(app_mod.create_app(settings))
    deadline = time.monotonic() + 30
    while not client.app[follow.LISTENER].problem:
        assert time.monotonic() < deadline, "the listener never found out"
        await asyncio.sleep(0.1)
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["reasons"] == [hearing.NOT_HEARD]
    assert not client.app[follow.LISTENER].connected
