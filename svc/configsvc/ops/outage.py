"""Logging a database outage as two lines: when it starts, and when it ends with its length.

Background tasks retry every few seconds while the database is away; a line (or a traceback)
per retry would bury the one thing an operator needs to know.
"""

from __future__ import annotations

import logging
import time


class Outage:
    """Tracks one task's view of the database: call ``failed`` on each failure, ``ok`` after."""

    def __init__(self, log: logging.Logger, task: str) -> None:
        self.log, self.task = log, task
        self.since: float | None = None

    def failed(self, exc: BaseException) -> None:
        """A database failure: logged if it starts an outage, counted quietly otherwise."""
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("%s: database unavailable (%r); retrying", self.task, exc)
        else:
            self.log.debug("%s: database still unavailable (%r)", self.task, exc)

    def ok(self) -> None:
        """The database answered: if it was away, say for how long."""
        if self.since is not None:
            down = time.monotonic() - self.since
            self.since = None
            self.log.warning("%s: database back after %.1f s", self.task, down)
