"""A PostgreSQL cluster of the project's own, for ``make run`` and the test session.

PostgreSQL refuses to run as root, so when we are root the cluster is created and run as an
unprivileged user (``postgres`` when it exists, else ``nobody``). The server listens on
127.0.0.1 only, trusts local connections, and has no Unix socket, so nothing on the machine
outside loopback can reach it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from configsvc import settings as settings_mod

SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    """PostgreSQL cannot be started here; the message says what to do."""


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: PATH, ``pg_config --bindir``, Debian's place."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        bindir = Path(out.stdout.strip())
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    # Debian's packages keep the server binaries off PATH.
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (bindir / "initdb").exists():
            return bindir
    return None


def _run_as() -> str | None:
    """The user the server must run as, or None when we may run it ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise ClusterError("running as root and no unprivileged user (postgres, nobody) exists")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """One data directory and the port its server listens on."""

    datadir: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            user=_run_as(),
            capture_output=True,
            text=True,
            check=check,
            stdin=subprocess.DEVNULL,
        )

    def is_running(self) -> bool:
        if not (self.datadir / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def init(self) -> None:
        """Create the data directory (once), owned by the user the server runs as."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.datadir.chmod(0o700)
        try:
            self._pg(
                "initdb", "-D", str(self.datadir), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise ClusterError(
                f"initdb failed in {self.datadir}: {exc.stderr.strip()} (as root the server runs "
                f"as {_run_as()}, who must be able to reach that directory)"
            ) from exc

    def start(self, *, fast: bool = False) -> None:
        """Start the server unless it already runs; wait until it accepts connections."""
        self.init()
        if self.is_running():
            return
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            "-c unix_socket_directories=''",
            "-c max_connections=300",
        ]
        if fast:  # throwaway clusters: durability buys nothing, speed does
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = self.datadir / "server.log"
        result = self._pg(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir),
            "-l", str(log), "-o", " ".join(options), check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else result.stderr
            raise ClusterError(f"PostgreSQL did not start in {self.datadir}:\n{tail}")

    def stop(self) -> None:
        if self.is_running():
            self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.datadir), check=False)

    def create_database(self, name: str) -> None:
        """Create database ``name`` unless it exists."""
        result = self._pg(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, name,
            check=False,
        )  # fmt: skip
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise ClusterError(f"createdb {name} failed: {result.stderr.strip()}")


def local_cluster(settings: settings_mod.Settings) -> Cluster:
    """The project-local cluster ``make run`` uses (LOCAL_PG_DIR, by default svc/.pgdata)."""
    bindir = find_bindir()
    if bindir is None:
        raise ClusterError(
            "no PostgreSQL found: install it (Debian: apt-get install postgresql), "
            "or run `docker compose up -d db`, or set DATABASE_URL"
        )
    datadir = settings.local_pg_dir.resolve()
    user = _run_as()
    if user is not None and not _reachable(datadir.parent, user):
        # As root in a checkout under a private home (/root is 0700), the server's user cannot
        # reach svc/: keep the data where it can, one directory per checkout.
        tag = hashlib.sha256(str(datadir).encode()).hexdigest()[:10]
        fallback = Path("/var/tmp") / f"configsvc-pgdata-{tag}"  # noqa: S108 (root-owned, 0700)
        print(f"{user} cannot reach {datadir}; using {fallback} instead", file=sys.stderr)
        datadir = fallback
    return Cluster(datadir, settings.local_pg_port, bindir)


def _reachable(directory: Path, user: str) -> bool:
    """Whether ``user`` can get into ``directory`` (search permission on the whole path)."""
    probe = subprocess.run(["test", "-x", str(directory)], user=user, check=False)
    return probe.returncode == 0


def ensure_database_url(settings: settings_mod.Settings) -> str:
    """DATABASE_URL when set; otherwise start (or reuse) the local cluster and return its URL."""
    if settings.database_url:
        return settings.database_url
    if find_bindir() is None and shutil.which("docker"):
        _compose_up()
        return f"postgresql://postgres:postgres@127.0.0.1:5432/{DB_NAME}"
    cluster = local_cluster(settings)
    cluster.start()
    cluster.create_database(DB_NAME)
    url = cluster.url_for(DB_NAME)
    print(f"local PostgreSQL in {cluster.datadir} at {url}", file=sys.stderr)
    return url


DB_NAME = "configsvc"


def _compose_up() -> None:
    compose = settings_mod.SVC_DIR.parent / "compose.yaml"
    subprocess.run(
        ["docker", "compose", "-f", str(compose), "up", "-d", "--wait", "db"], check=True
    )


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m configsvc.devtools.pgcluster")
    parser.add_argument("command", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    settings = settings_mod.load()
    try:
        cluster = local_cluster(settings)
        if args.command == "start":
            print(ensure_database_url(settings))
        elif args.command == "stop":
            cluster.stop()
            print(f"stopped {cluster.datadir}")
        else:
            state = "running" if cluster.is_running() else "stopped"
            print(f"{cluster.datadir}: {state} (port {cluster.port})")
    except ClusterError as exc:
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
