"""One load run: what it returns, and which generator produces it (wrk, else asyncio)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import cpus, scenarios, wrk

CONNECTIONS = 32
# The token the generators send as Authorization: Bearer, passed in the environment.
TOKEN_ENV = "BENCH_TOKEN"  # noqa: S105 (the name of a variable)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {**asdict(self), "rps": self.rps}

    @classmethod
    def from_json(cls, data: dict[str, float | int]) -> LoadResult:
        return cls(
            int(data["requests"]),
            float(data["duration_s"]),
            float(data["p50_ms"]),
            float(data["p99_ms"]),
            int(data["errors"]),
        )


def generator() -> str:
    """``wrk`` when it is installed, else ``asyncio`` (``python -m bench.loadgen``)."""
    return "wrk" if shutil.which("wrk") else "asyncio"


def measure(
    scenario: scenarios.Scenario,
    base_url: str,
    data_dir: Path,
    duration_s: float,
    pinning: cpus.Pinning,
    connections: int = CONNECTIONS,
    token: str | None = None,
) -> LoadResult:
    """Run ``scenario`` against ``base_url`` in a separate process on the load CPUs, sending
    ``token`` (if any) as the bearer token."""
    if generator() == "wrk":
        argv = wrk.argv(scenario, base_url, data_dir, duration_s, connections, len(pinning.load))
    else:
        argv = [
            sys.executable, "-m", "bench.loadgen", base_url, scenario.name,
            "--data", str(data_dir), "--duration", str(duration_s),
            "--connections", str(connections),
        ]  # fmt: skip
    out = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=True,
        cwd=data_dir,
        env={**os.environ, TOKEN_ENV: token} if token else None,
        preexec_fn=lambda: cpus.pin(pinning.load),
        timeout=duration_s + 60,
    )
    return parse(out.stdout)


MARKER = "BENCH_JSON "


def parse(stdout: str) -> LoadResult:
    """The result line both generators print: ``BENCH_JSON {...}``."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            return LoadResult.from_json(json.loads(line[len(MARKER) :]))
    raise RuntimeError(f"load generator printed no result:\n{stdout[-2000:]}")
