"""How much each phase measures: the full run, and the quick one (``make bench QUICK=1``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    reps: int = 3
    rest_seconds: float = 5.0
    warmup_seconds: float = 1.0
    live_changes: int = 1000  # 1 subscriber, and the LISTEN/NOTIFY floor
    live_interval_s: float = 0.005
    fanout_sizes: tuple[int, ...] = (1000, 10000)
    fanout_changes: int = 100
    fanout_interval_s: float = 0.05
    writes_subscribers: int = 1000
    catchup_changes: int = 10000
    scale_subscribers: int = 100000  # issue 23's moonshot: all idle, on one application
    scale_workers: int = 2
    scale_changes: int = 8
    scale_interval_s: float = 1.5
    applications: int = 1000
    configurations_per_application: int = 10

    def as_json(self) -> dict[str, object]:
        return asdict(self)


FULL = Plan(quick=False)
QUICK = Plan(
    quick=True,
    rest_seconds=1.0,
    warmup_seconds=1.0,
    live_changes=200,
    fanout_sizes=(1000,),  # 10,000 sockets take ~20 s to open on each side: not in 2 minutes
    fanout_changes=20,
    catchup_changes=2000,
    scale_subscribers=2000,
    scale_changes=5,
    scale_interval_s=0.5,
)
