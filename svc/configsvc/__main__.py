"""``python -m configsvc``: serve the API on HOST:PORT with WORKERS processes.

Without DATABASE_URL a project-local PostgreSQL is started first. The workers are gunicorn's
aiohttp workers sharing one listening socket; each opens its own pool and change listener.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

import asyncpg

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import database, migrations
from configsvc.devtools import pgcluster
from configsvc.ops import gunicorn_conf


def gunicorn_argv(settings: settings_mod.Settings) -> list[str]:
    # No access log unless DEBUG: formatting a line per request costs a few percent of
    # throughput; gunicorn's aiohttp worker logs nothing when no access log file is set.
    access_log = ["--access-logfile", "-"] if settings.log_level == "DEBUG" else []
    return [
        sys.executable, "-m", "gunicorn", "configsvc.app:create_app_from_env()",
        "--worker-class", "aiohttp.GunicornUVLoopWebWorker",
        "--workers", str(settings.workers),
        "--bind", f"{settings.host}:{settings.port}",
        "--graceful-timeout", "10",
        "--no-control-socket",
        "--log-level", settings.log_level.lower(),
        "--config", "python:configsvc.ops.gunicorn_conf",
        *access_log,
    ]  # fmt: skip


async def _migrate(url: str) -> None:
    with database.classified():
        conn = await asyncpg.connect(url)
        try:
            await migrations.apply(conn)
        finally:
            await conn.close()


def main() -> None:
    settings = settings_mod.load()
    try:
        url = pgcluster.ensure_database_url(settings)
        # Migrate once here so that a bad migration stops start-up with one clear line; the
        # workers then find nothing pending.
        asyncio.run(_migrate(settings.listen_database_url or url))
    except (pgcluster.ClusterError, errors.MigrationError) as exc:
        sys.exit(str(exc))
    except (errors.Unavailable, errors.DatabaseError) as exc:
        sys.exit(f"cannot use the database: {exc}")
    os.environ["DATABASE_URL"] = url
    # Fresh for every start (stale files would add a past run's counts); gunicorn's on_exit
    # hook removes it.
    os.environ[gunicorn_conf.MULTIPROC_ENV] = tempfile.mkdtemp(prefix=gunicorn_conf.TEMP_PREFIX)
    print(
        f"serving http://{settings.host}:{settings.port} with {settings.workers} worker(s)",
        file=sys.stderr,
    )
    argv = gunicorn_argv(settings)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
