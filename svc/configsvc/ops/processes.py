"""``process_*`` metrics for the whole server on this machine: the gunicorn master and its workers.

prometheus-client's multiprocess mode has no process metrics (each worker's own would be
reported by whichever worker answers the scrape). This collector reads ``/proc`` for the
master (the answering worker's parent) and every one of its children at scrape time and
reports them as one server: memory and CPU time summed, ``process_start_time_seconds`` the
master's (the server's start), ``process_open_fds`` the fullest process and
``process_max_fds`` the smallest limit (a descriptor limit is per process: the ratio of
the two is how close the nearest process is to running out).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

# How the processes' values become the server's, by sample name.
COMBINE: dict[str, Callable[[Iterable[float]], float]] = {
    "process_virtual_memory_bytes": sum,
    "process_resident_memory_bytes": sum,
    "process_cpu_seconds_total": sum,
    "process_start_time_seconds": min,
    "process_open_fds": max,
    "process_max_fds": min,
}


def tree(root: int) -> list[int]:
    """``root`` and its children (the workers, for a gunicorn master)."""
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: the answering worker alone
        return [os.getpid()]
    return [root, *map(int, children)]


class ProcessTree(Collector):
    """The ``process_*`` metrics of ``root()`` and its children, combined (see COMBINE)."""

    def __init__(self, root: Callable[[], int] = os.getppid) -> None:
        self.root = root

    def collect(self) -> Iterable[Metric]:
        values: dict[str, list[float]] = {}
        docs: dict[str, str] = {}
        for pid in tree(self.root()):
            # A process that exits meanwhile reports nothing, and so counts for nothing.
            for family in ProcessCollector(
                pid=functools.partial(int, pid), registry=None
            ).collect():
                for sample in family.samples:
                    values.setdefault(sample.name, []).append(sample.value)
                    docs[sample.name] = family.documentation
        for name, combine in COMBINE.items():
            if name in values:
                kind = CounterMetricFamily if name.endswith("_total") else GaugeMetricFamily
                yield kind(name.removesuffix("_total"), docs[name], value=combine(values[name]))
