"""Exponential backoff with full jitter.

Full jitter (delay drawn uniformly from zero to the exponential bound) spreads the retries of
many clients over the whole window, so when a server comes back its clients do not all return
in the same second. See "Exponential Backoff And Jitter" on the AWS Architecture Blog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# 2**62 times any sane base is far above any cap; bounding the exponent keeps the float finite.
_MAX_EXPONENT = 62


@dataclass
class Backoff:
    """Delays for attempt 0, 1, 2, ...: ``uniform(0, min(cap, base * 2**attempt))`` seconds."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")

    def bound(self, attempt: int) -> float:
        """The upper end of the window for ``attempt``."""
        return min(self.cap, self.base * 2.0 ** min(max(attempt, 0), _MAX_EXPONENT))

    def delay(self, attempt: int) -> float:
        """A random delay for ``attempt`` (counting from 0) before trying again."""
        return self.rng.uniform(0.0, self.bound(attempt))
