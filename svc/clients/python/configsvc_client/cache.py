"""The last-known-good file: a live view's state, kept on disk for when the service is away.

Written atomically (a temporary file in the same directory, fsync, rename, fsync of the
directory), so a crash at any moment leaves either the old file or the new one, never half of
one. Writes happen off the event loop, one at a time, and coalesce: a burst of changes costs one
write of the newest state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from pathlib import Path

import pydantic
from configsvc_contract import exactjson, models

log = logging.getLogger(__name__)


class CacheState(pydantic.BaseModel):
    """What the file holds: enough to serve the configurations without the service."""

    application_id: str
    application_name: str | None
    revision: int
    # The identity of the entry at ``revision``, sent on resume (None in older files).
    entry_id: str | None = None
    configurations: list[models.Configuration]

    def matches(self, application: str) -> bool:
        """Whether this is the state of ``application`` (an id or a name)."""
        return application in (self.application_id, self.application_name)


def load(path: str | os.PathLike[str], application: str) -> CacheState | None:
    """The cached state of ``application``, or None if there is none usable."""
    try:
        state = CacheState.model_validate(exactjson.loads(Path(path).read_bytes()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not a state
        # A cache is an optimisation: an unreadable one must not stop the service starting.
        log.warning("ignoring unreadable cache file %s: %s", path, exc)
        return None
    if not state.matches(application):
        log.warning("ignoring cache file %s: it holds %s", path, state.application_id)
        return None
    return state


def save(path: str | os.PathLike[str], state: CacheState) -> None:
    """Replace the file at ``path`` with ``state``, atomically and durably."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(exactjson.dumps(state.model_dump()).encode())  # numbers exact
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Writer:
    """Saves the newest submitted state in a background task of its own."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.failures = 0
        self._pending: CacheState | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"configsvc-cache-{self.path}")

    def submit(self, state: CacheState) -> None:
        """Have ``state`` written soon; a newer submission replaces one not yet written."""
        self._pending = state
        self._wake.set()

    async def close(self) -> None:
        """Write what is pending, then stop. Not cancelled mid-write: the file stays whole."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not (self._closing and self._pending is None):
            await self._wake.wait()
            self._wake.clear()
            state, self._pending = self._pending, None
            if state is None:
                continue
            try:
                await asyncio.to_thread(save, self.path, state)
            except OSError as exc:
                self.failures += 1
                log.warning("could not write cache file %s: %s", self.path, exc)
