from __future__ import annotations

import random
import statistics

import pytest

from configsvc_client import backoff

DRAWS = 10_000


def test_the_window_doubles_up_to_the_cap() -> None:
    b = backoff.Backoff(base=0.5, cap=30.0)
    assert [b.bound(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert b.bound(10_000) == 30.0
    assert b.bound(-1) == 0.5


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        backoff.Backoff(base=0)
    with pytest.raises(ValueError):
        backoff.Backoff(base=2, cap=1)


@pytest.mark.parametrize("attempt", [0, 3, 9])
def test_delays_are_uniform_over_the_whole_window(attempt: int) -> None:
    b = backoff.Backoff(base=0.5, cap=30.0, rng=random.Random(attempt))
    bound = b.bound(attempt)
    delays = [b.delay(attempt) for _ in range(DRAWS)]
    assert all(0.0 <= d <= bound for d in delays)
    # Full jitter, not "half the window plus a bit": the draws reach both ends.
    assert min(delays) < 0.01 * bound
    assert max(delays) > 0.99 * bound
    # Mean and spread of U(0, bound): bound/2 and bound/sqrt(12), within a few percent.
    assert statistics.fmean(delays) == pytest.approx(bound / 2, rel=0.03)
    assert statistics.pstdev(delays) == pytest.approx(bound / 12**0.5, rel=0.03)
    # Ten equal bins each get about a tenth; chi-square with 9 dof, far above its 99.9% point.
    counts = [0] * 10
    for d in delays:
        counts[min(int(d / bound * 10), 9)] += 1
    chi2 = sum((c - DRAWS / 10) ** 2 / (DRAWS / 10) for c in counts)
    assert chi2 < 27.9


def test_clients_of_a_restarted_server_come_back_spread_out() -> None:
    """10,000 clients lose their server at t=0; it is back at t=60 s. When do they return?

    Each client retries on its own jittered schedule; its return is its first attempt at or
    after the restart. Computed, not slept: only the delays matter.
    """
    rng = random.Random(42)
    b = backoff.Backoff(base=0.5, cap=30.0, rng=rng)
    down_until = 60.0
    returns = []
    for _ in range(DRAWS):
        t, attempt = 0.0, 0
        while t < down_until:
            t += b.delay(attempt)
            attempt += 1
        returns.append(t - down_until)
    per_second = [0] * (int(max(returns)) + 1)
    for r in returns:
        per_second[int(r)] += 1
    # Without jitter all 10,000 would arrive in the same instant; here no second sees
    # more than a few percent of them, and the arrivals stretch over most of the cap.
    assert max(per_second) < 0.10 * DRAWS
    assert statistics.quantiles(returns, n=10)[-1] > 15.0
