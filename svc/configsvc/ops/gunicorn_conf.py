"""gunicorn's configuration hooks (``--config python:configsvc.ops.gunicorn_conf``).

Loaded by the gunicorn master, so it defines no metric: a metric created here would be
reported for the master's pid as if it were a worker.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from gunicorn import glogging
from prometheus_client import multiprocess

from configsvc.ops import logs

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TEMP_PREFIX = "configsvc-metrics-"
# gunicorn's --logger-class with LOG_FORMAT=json.
JSON_LOGGER = f"{__name__}.JsonLogger"


class JsonLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing each of its lines (in the master and the workers: started,
    booting, a worker killed or timed out) as one JSON object like the service's own."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(logs.JsonFormatter())


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """The server stops: remove the metrics directory ``python -m configsvc`` made for it."""
    directory = os.environ.get(MULTIPROC_ENV, "")
    if os.path.basename(directory).startswith(TEMP_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
