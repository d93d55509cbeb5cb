"""Shared fixtures: a real PostgreSQL for the session, a fresh migrated database per test.

The session starts a throwaway cluster in a temporary directory (or uses TEST_DATABASE_URL),
migrates one template database, and gives every test its own copy of it
(``CREATE DATABASE ... TEMPLATE``), so tests are independent and pass in any order. A copy
costs the server more than most tests take, so one a test is done with is reset and handed to
the next test when it is then indistinguishable from the template (see ``testdbs``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.auth import tokens
from configsvc.db import database, migrations
from configsvc.devtools import pgcluster, testdbs
from configsvc.live import follow

TEMPLATE = "configsvc_test_template"
_counter = itertools.count()
# The session's admin secret: every test server stores it as BOOTSTRAP_ADMIN_TOKEN, and the
# `client` fixture and service_factory's servers are reached with it, so every test runs
# with AUTH_MODE=enforce.
ADMIN_TOKEN = tokens.new_secret()
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="session")
def admin_token() -> str:
    """The admin secret every test server bootstraps (see ADMIN_TOKEN)."""
    return ADMIN_TOKEN


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """CONFIGSVC_TOKEN set to the admin secret, as a deployed client is given its token."""
    monkeypatch.setenv("CONFIGSVC_TOKEN", ADMIN_TOKEN)
    return ADMIN_TOKEN


@pytest.fixture(scope="session")
def admin_headers() -> dict[str, str]:
    """``Authorization: Bearer`` with the session's admin secret."""
    return dict(ADMIN_HEADERS)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.Cluster | None]:
    """The throwaway cluster, or None when TEST_DATABASE_URL names a server to use."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    bindir = pgcluster.find_bindir()
    if bindir is None:
        pytest.exit("no PostgreSQL binaries (initdb, pg_ctl) and no TEST_DATABASE_URL", 2)
    tmp = Path(tempfile.mkdtemp(prefix="configsvc-test-"))
    tmp.chmod(0o755)  # the server may run as another user (we might be root)
    cluster = pgcluster.Cluster(tmp / "data", pgcluster.free_port(), bindir)
    cluster.start(fast=True)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_url(pg_cluster: pgcluster.Cluster | None) -> str:
    """URL of a maintenance database on the test server."""
    if pg_cluster is None:
        return os.environ["TEST_DATABASE_URL"]
    return pg_cluster.url


@pytest.fixture(scope="session")
def template_url(admin_url: str) -> str:
    return asyncio.run(migrations.recreate_database(admin_url, TEMPLATE))


@pytest.fixture(scope="session")
def databases(admin_url: str, template_url: str) -> testdbs.Databases:
    """Copies of the template for the tests, recycled when a reset makes them equal to it."""
    return asyncio.run(testdbs.Databases.of_template(admin_url, TEMPLATE))


@pytest.fixture
async def database_url(databases: testdbs.Databases) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone: as the template left it."""
    name = await databases.take(lambda: f"configsvc_test_{os.getpid()}_{next(_counter)}")
    yield migrations.with_database(databases.admin_url, name)
    await databases.give_back(name)


@pytest.fixture
def settings(database_url: str) -> settings_mod.Settings:
    return settings_mod.Settings(
        database_url=database_url, port=0, db_pool_min=1, db_pool_max=5, _env_file=None,
        bootstrap_admin_token=ADMIN_TOKEN,
    )  # fmt: skip


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for looking behind the API."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def pooled(database_url: str) -> AsyncIterator[database.Database]:
    """The test's database behind a pool, as a worker holds it: for the write path."""
    settings = settings_mod.Settings(
        database_url=database_url, db_pool_min=0, db_pool_max=25, _env_file=None
    )
    pool = await database.create_pool(database_url, settings)
    yield database.Database(pool, acquire_timeout_s=10)
    await pool.close()


@pytest.fixture
async def client(settings: settings_mod.Settings, aiohttp_client) -> TestClient:  # type: ignore[no-untyped-def, type-arg]
    """An HTTP client talking to a real server on a real socket, on the test's database.

    Returned once the server is ready (its change listener connected), as a load balancer
    would wait for /readyz. It sends the session's admin token unless a request says otherwise.
    """
    test_client = await aiohttp_client(app_mod.create_app(settings), headers=ADMIN_HEADERS)
    async with asyncio.timeout(10):
        while not test_client.app[follow.LISTENER].connected:
            await asyncio.sleep(0.01)
    return test_client


class Service:
    """A real ``python -m configsvc`` process tree (gunicorn master and its workers)."""

    def __init__(self, database_url: str, workers: int, env: dict[str, str]) -> None:
        self.port = pgcluster.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WORKERS": str(workers),
            "LOG_LEVEL": "WARNING",
            "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0, stdout: Any = None, stderr: Any = None) -> None:
        """Start it and wait for /readyz; ``stdout``, ``stderr``: where its output goes
        (as for ``subprocess.Popen``; the test's own by default)."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "configsvc"], cwd=settings_mod.SVC_DIR, env=self.env,
            stdout=stdout, stderr=stderr,
        )  # fmt: skip
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            assert self.proc.poll() is None, "server exited"
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"{self.url} not ready after {timeout}s")

    def worker_pids(self) -> list[int]:
        """Pids of the gunicorn workers (children of the master)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_sql(url: str, sql: str) -> None:
    """One statement on a connection of its own, in a thread of its own: callable from a sync
    fixture even where an event loop is already running (Playwright's driver keeps one)."""

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@contextlib.contextmanager
def template_copy(admin_url: str, name: str) -> Iterator[str]:
    """A database of its own, copied from the migrated template, for a module's long-lived
    server (``template_url`` must be requested first); dropped on leaving."""
    run_sql(admin_url, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield migrations.with_database(admin_url, name)
    finally:
        run_sql(admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def service_factory(database_url: str) -> Iterator[Callable[..., Service]]:
    """Start real server processes on the test's database: ``service_factory(workers=2)``."""
    started: list[Service] = []

    def start(workers: int = 1, **env: str) -> Service:
        service = Service(database_url, workers, {k.upper(): v for k, v in env.items()})
        started.append(service)
        service.start()
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def database_outage(admin_url: str, database_url: str) -> Callable[[], Any]:
    """``async with database_outage():`` the test's database refuses new connections and drops
    the ones it has, as if its server had gone away; it comes back on leaving the block."""

    @contextlib.asynccontextmanager
    async def outage() -> AsyncIterator[None]:
        dbname = urllib.parse.urlsplit(database_url).path.lstrip("/")
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"ALTER DATABASE {dbname} WITH ALLOW_CONNECTIONS false")
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                dbname,
            )
            yield
        finally:
            await admin.execute(f"ALTER DATABASE {dbname} WITH ALLOW_CONNECTIONS true")
            await admin.close()

    return outage


class Proxy:
    """A TCP forwarder to the test's PostgreSQL that the test can cut, like a network
    partition between one worker's connection and the database: ``cut()`` drops every
    forwarded connection and refuses new ones until ``mend()``; ``stall()`` keeps them open
    but holds back what they carry until ``flow()``, like a network that went quiet."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.open = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, database_url: str) -> str:
        parts = urllib.parse.urlsplit(database_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{self.port}"
        netloc[-1] = host
        return urllib.parse.urlunsplit(parts._replace(netloc="@".join(netloc)))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.open:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    await self._flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        self.open = False
        for writer in list(self._writers):
            writer.transport.abort()

    def mend(self) -> None:
        self.open = True

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def close(self) -> None:
        self.flow()
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def db_proxy(database_url: str) -> AsyncIterator[Proxy]:
    """A cut-able TCP path to the test's database (see Proxy)."""
    parts = urllib.parse.urlsplit(database_url)
    proxy = Proxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.start()
    yield proxy
    await proxy.close()
