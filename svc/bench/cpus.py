"""Which CPUs the servers get and which the load generators get.

With two or more CPUs the load generator gets the last one and the servers the rest, so the
two never steal each other's time slices. PostgreSQL is left to the scheduler: it is a shared
resource of the machine, not part of either side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Pinning:
    server: frozenset[int]
    load: frozenset[int]

    @property
    def pinned(self) -> bool:
        return not self.server & self.load

    def as_json(self) -> dict[str, object]:
        return {"pinned": self.pinned, "server": sorted(self.server), "load": sorted(self.load)}


def plan(available: set[int] | None = None) -> Pinning:
    cpus = sorted(available if available is not None else os.sched_getaffinity(0))
    if len(cpus) < 2:
        return Pinning(frozenset(cpus), frozenset(cpus))
    return Pinning(frozenset(cpus[:-1]), frozenset(cpus[-1:]))


def pin(cpus: frozenset[int], pid: int = 0) -> None:
    """Bind ``pid`` (0: this process) to ``cpus``; children forked later inherit it."""
    os.sched_setaffinity(pid, cpus)
