"""Server processes the bench starts: the service itself and the ceilings, pinned to the
server CPUs, started fresh for each phase and stopped however the phase ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench import cpus
from configsvc import settings as settings_mod
from configsvc.devtools import pgcluster


class Server:
    """One server process tree listening on 127.0.0.1:``port``."""

    def __init__(
        self, argv: list[str], env: dict[str, str], pinning: cpus.Pinning, port_arg: bool = False
    ) -> None:
        self.port = pgcluster.free_port()
        self.argv = [*argv, "--port", str(self.port)] if port_arg else argv
        self.pinning = pinning
        self.env = {**os.environ, **env, "PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, timeout: float = 60.0) -> Server:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=settings_mod.SVC_DIR,
            env=self.env,
            # Set before exec, so gunicorn's workers forked later inherit it too.
            preexec_fn=lambda: cpus.pin(self.pinning.server),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv} exited with {self.proc.returncode}")
            try:
                # Always http://127.0.0.1:<port>: no scheme comes from outside.
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.url}{ready_path} not ready after {timeout}s")

    def workers(self) -> list[int]:
        """Pids of the processes serving requests: gunicorn's workers, or the process itself."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(pid) for pid in children.split()] or [self.proc.pid]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """The CPU time (user and system) ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service(database_url: str, workers: int, pinning: cpus.Pinning, **env: str) -> Server:
    """``python -m configsvc``, as ``make run`` starts it, on the bench database.

    Without an ``auth_mode`` it runs with AUTH_MODE=off (the feed phases); the REST phase
    passes ``auth_mode="enforce"`` and a ``bootstrap_admin_token``, then makes its tokens.
    """
    settings = {
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "WORKERS": str(workers),
        "AUTH_MODE": "off",
        # 10,000 subscribers and the writer's own connection on one worker.
        "MAX_CONNECTIONS": "20000",
        # The catch-up phase cuts the listener off on purpose; its warnings are expected noise.
        "LOG_LEVEL": "ERROR",
        **{k.upper(): v for k, v in env.items()},
    }
    return Server([sys.executable, "-m", "configsvc"], settings, pinning).start("/readyz")


def make_token(url: str, admin_secret: str, access: str) -> str:
    """A token with ``access`` on every application, made through the API; its secret."""
    body = {"name": f"bench-{access}", "grants": [{"application_id": "*", "access": access}]}
    request = urllib.request.Request(  # noqa: S310 (always http://127.0.0.1:<port>)
        f"{url}/api/v1/tokens", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {admin_secret}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        secret: str = json.load(resp)["token"]
        return secret


def scrape(url: str, token: str) -> dict[str, float]:
    """The service's /metrics, summed per sample name over its labels and workers."""
    request = urllib.request.Request(  # noqa: S310 (always http://127.0.0.1:<port>)
        f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return samples(resp.read().decode())


def samples(text: str) -> dict[str, float]:
    """A /metrics text's samples, summed per name over their labels."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


def ceiling(kind: str, pinning: cpus.Pinning, database_url: str | None = None) -> Server:
    argv = [sys.executable, "-m", "bench.ceilings", kind]
    if database_url:
        argv += ["--database-url", database_url]
    return Server(argv, {}, pinning, port_arg=True).start("/healthz")


def ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://", 1) + path
