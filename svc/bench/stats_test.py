import pytest

from bench import stats


def test_percentile_interpolates_between_ranks() -> None:
    samples = [1.0, 2.0, 3.0, 4.0]
    assert stats.percentile(samples, 0) == 1.0
    assert stats.percentile(samples, 50) == 2.5
    assert stats.percentile(samples, 100) == 4.0
    assert stats.percentile(list(range(101)), 99) == 99


def test_percentile_of_one_sample_is_that_sample() -> None:
    assert stats.percentile([7.0], 99) == 7.0


def test_percentile_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1.0], 101)


def test_spread_is_median_min_max() -> None:
    result = stats.spread([3.0, 1.0, 2.0])
    assert (result.median, result.min, result.max, result.reps) == (2.0, 1.0, 3.0, 3)
    assert result.as_json(1) == {"median": 2.0, "min": 1.0, "max": 3.0, "reps": 3}


def test_ratios_pair_repetitions_and_skip_zero_denominators() -> None:
    assert stats.ratios([2.0, 3.0, 4.0], [4.0, 0.0, 2.0]) == [0.5, 2.0]
    with pytest.raises(ValueError):
        stats.ratios([1.0], [])
