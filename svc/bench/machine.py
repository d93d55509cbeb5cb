"""What the figures were measured on: they mean little without it."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from configsvc import settings as settings_mod


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def git_commit() -> str | None:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=settings_mod.SVC_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or None


def describe() -> dict[str, object]:
    return {
        "cpu": cpu_model(),
        # Not this process's affinity: the bench pins itself to the load CPU.
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": git_commit(),
    }
