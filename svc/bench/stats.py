"""Percentiles of samples and the median / min / max of repetitions."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# What a phase reports progress to, and the figures it measured (None: measured nothing).
Say = Callable[[str], None]


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by linear interpolation between closest ranks (numpy's default)."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile {pct} outside 0..100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Spread:
    """One figure over its repetitions: the median is the figure, min and max its spread."""

    median: float
    min: float
    max: float
    reps: int

    def as_json(self, digits: int = 3) -> dict[str, float | int]:
        return {
            "median": round(self.median, digits),
            "min": round(self.min, digits),
            "max": round(self.max, digits),
            "reps": self.reps,
        }


Figures = dict[str, Spread | None]


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("spread of no values")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Ratios of paired repetitions; pairs run back to back share the machine's mood."""
    if len(numerators) != len(denominators):
        raise ValueError("ratios need paired repetitions")
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d]
