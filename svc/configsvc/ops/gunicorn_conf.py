"""gunicorn's configuration hooks (``--config python:configsvc.ops.gunicorn_conf``).

Loaded by the gunicorn master, so it defines no metric: a metric created here would be
reported for the master's pid as if it were a worker.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TEMP_PREFIX = "configsvc-metrics-"


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """The server stops: remove the metrics directory ``python -m configsvc`` made for it."""
    directory = os.environ.get(MULTIPROC_ENV, "")
    if os.path.basename(directory).startswith(TEMP_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
