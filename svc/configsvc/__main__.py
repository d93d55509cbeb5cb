"""``python -m configsvc``: serve the API on HOST:PORT with WORKERS processes.

DATABASE_URL must be set (``make run`` starts a project-local PostgreSQL and sets it). The
workers are gunicorn's aiohttp workers sharing one listening socket, bound here first; each
opens its own pool and change listener.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import time

import asyncpg

from configsvc import app, errors
from configsvc import settings as settings_mod
from configsvc.db import failures, migrations
from configsvc.live import hearing
from configsvc.ops import gunicorn_conf, logs


def gunicorn_argv(settings: settings_mod.Settings, fd: int | None = None) -> list[str]:
    # The access log, if any, is the runner's (see app.create_runner_from_env). With
    # LOG_FORMAT=json gunicorn's own lines (a worker booting, killed, timed out) are JSON too.
    json_logs = (
        ["--logger-class", gunicorn_conf.JSON_LOGGER] if settings.log_format == "json" else []
    )
    return [
        sys.executable, "-m", "gunicorn", "configsvc.app:create_runner_from_env",
        "--worker-class", "configsvc.worker.Worker",
        "--workers", str(settings.workers),
        "--bind", f"fd://{fd}" if fd is not None else f"{settings.host}:{settings.port}",
        "--graceful-timeout", str(app.GRACEFUL_TIMEOUT_S),
        "--no-control-socket",
        "--log-level", settings.log_level.lower(),
        "--config", "python:configsvc.ops.gunicorn_conf",
        *json_logs,
    ]  # fmt: skip


async def _migrate(url: str) -> None:
    with failures.classified():
        conn = await asyncpg.connect(url)
        try:
            await migrations.apply(conn)
        finally:
            await conn.close()


def listen(settings: settings_mod.Settings) -> socket.socket:
    """Bind HOST:PORT here, so that a bad HOST or a taken PORT is one line naming the setting.

    gunicorn inherits the bound socket (``--bind fd://N``) instead of retrying a taken port.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        sys.exit(f"invalid setting HOST: {settings.host!r} does not resolve ({exc.strerror})")
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        sys.exit(
            f"invalid setting PORT: cannot listen on {settings.host}:{settings.port} "
            f"({exc.strerror}); set PORT (or HOST) to a free address"
        )
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _wait_for_primary(url: str, timeout_s: float) -> None:
    """Check the URL (see hearing.check_url), retrying while no server that takes writes
    answers (a failover under way) for up to ``timeout_s``, saying which hosts it tried."""
    deadline = time.monotonic() + timeout_s
    delay = 0.5
    while True:
        try:
            await hearing.check_url(url)
            return
        except errors.Unavailable as exc:
            if time.monotonic() + delay > deadline:
                raise
            print(
                f"waiting for a primary at {settings_mod.hosts_of(url)}: {exc}; retrying in "
                f"{delay:.1f} s (DB_START_TIMEOUT_S)", file=sys.stderr, flush=True,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def main() -> None:
    if sys.argv[1:2] == ["tokens"]:
        from configsvc.ops import tokens_cli as cli

        sys.exit(cli.main(sys.argv[2:]))
    settings = settings_mod.load()
    if not settings.database_url:
        sys.exit(settings_mod.NO_DATABASE_URL)
    direct_url = settings.listen_database_url or settings.database_url
    try:
        # Make sure the workers' change listeners will hear notifications there, rather than
        # serve changes seconds late forever (first: it uses no named prepared statement,
        # which a pooler would mix up). Then migrate once here so that a bad migration stops
        # start-up with one clear line; the workers then find nothing pending.
        asyncio.run(_wait_for_primary(direct_url, settings.db_start_timeout_s))
        asyncio.run(_migrate(direct_url))
    except errors.MigrationError as exc:
        sys.exit(str(exc))
    except (errors.Unavailable, errors.DatabaseError) as exc:
        sys.exit(f"cannot use the database ({settings_mod.hosts_of(direct_url)}): {exc}")
    except hearing.NotHeard as exc:
        used = "LISTEN_DATABASE_URL" if settings.listen_database_url else "DATABASE_URL"
        sys.exit(f"cannot follow changes through {used}: {exc}")
    # Fresh for every start (stale files would add a past run's counts); gunicorn's on_exit
    # hook removes it.
    os.environ[gunicorn_conf.MULTIPROC_ENV] = tempfile.mkdtemp(prefix=gunicorn_conf.TEMP_PREFIX)
    sock = listen(settings)
    port = sock.getsockname()[1]
    # Listening already: connections queue until the first worker takes them.
    logs.announce(
        f"serving http://{settings.host}:{port} with {settings.workers} worker(s)",
        settings.log_format,
    )
    argv = gunicorn_argv(settings, sock.fileno())
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
