"""``make run``, ``make migrate`` and ``make db*``: the project-local PostgreSQL for developers.

``python -m configsvc.devtools.local run MODULE [ARGS...]`` starts (or reuses) the local
cluster unless DATABASE_URL is set, exports DATABASE_URL and replaces itself with
``python -m MODULE ARGS``. The service itself never starts a database: production code must
not import ``configsvc.devtools``.

``start``, ``stop``, ``status`` and ``remove`` manage the cluster; the server keeps running
after ``run`` ends (Ctrl-C stops the service, not its database).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from configsvc import settings as settings_mod
from configsvc.devtools import admin_token, pgbin, pgcluster


def _run(argv: list[str]) -> None:
    settings = settings_mod.load()
    url = pgcluster.ensure_database_url(settings)
    if argv == ["configsvc"] and not settings.database_url:
        _first_admin_token(url)
    os.environ["DATABASE_URL"] = url
    os.execv(sys.executable, [sys.executable, "-m", *argv])


def _first_admin_token(url: str) -> None:
    """Serving the local database with no admin token yet: make one, say where its secret is."""
    made = admin_token.ensure_admin_token_file(url)
    path = admin_token.ADMIN_TOKEN_FILE
    if made is not None:
        print(f"made an admin token; its secret is in {path} (TOKEN=$(cat {path}))",
              file=sys.stderr)  # fmt: skip
    elif path.exists():
        print(f"the admin token's secret is in {path}", file=sys.stderr)


def _manage(command: str) -> None:
    settings = settings_mod.load()
    if command == "start":
        print(pgcluster.ensure_database_url(settings))
        return
    cluster = pgcluster.local_cluster(settings)
    if command == "status":
        state = "running" if cluster.is_running() else "stopped"
        print(f"{cluster.datadir}: {state} (PostgreSQL {cluster.version()}, port {cluster.port})")
        return
    if cluster.is_running():
        cluster.stop()
        print(f"stopped {cluster.datadir}")
    elif command == "stop":
        print(f"{cluster.datadir}: not running")
    # Only a directory that holds a cluster is ours to delete (LOCAL_PG_DIR may be anywhere).
    if command != "remove":
        return
    if (cluster.datadir / "PG_VERSION").exists():
        shutil.rmtree(cluster.datadir)
        print(f"removed {cluster.datadir}")
    for copy in cluster.bindir.parents:  # the wheel's binaries, copied for root
        if copy.name.startswith(pgbin.COPY_PREFIX):
            shutil.rmtree(copy)
            print(f"removed {copy}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m configsvc.devtools.local")
    parser.add_argument("command", choices=["run", "start", "stop", "status", "remove"])
    parser.add_argument("module", nargs=argparse.REMAINDER, help="run: MODULE [ARGS...]")
    args = parser.parse_args(argv)
    if args.command == "run" and not args.module:
        parser.error("run needs a module, e.g. `run configsvc`")
    try:
        if args.command == "run":
            _run(args.module)
        else:
            _manage(args.command)
    except pgcluster.ClusterError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
