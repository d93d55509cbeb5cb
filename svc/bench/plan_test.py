"""The plans: the quick one measures less of everything, and both are written with the results."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, fields

import pytest

from bench.plan import FULL, QUICK, Plan


def test_the_quick_plan_never_measures_more_than_the_full_one() -> None:
    assert (FULL.quick, QUICK.quick) == (False, True)
    for field in fields(Plan):
        full, quick = getattr(FULL, field.name), getattr(QUICK, field.name)
        if isinstance(full, tuple):
            assert set(quick) <= set(full), field.name
        elif field.name != "quick":
            assert quick <= full, field.name
    assert QUICK.live_changes < FULL.live_changes
    assert max(QUICK.fanout_sizes) < max(FULL.fanout_sizes)


def test_a_plan_is_written_as_json_with_every_field() -> None:
    written = json.loads(json.dumps(QUICK.as_json()))
    assert set(written) == {f.name for f in fields(Plan)}
    assert written["fanout_sizes"] == list(QUICK.fanout_sizes)
    assert Plan(**{**written, "fanout_sizes": tuple(written["fanout_sizes"])}) == QUICK


def test_a_plan_cannot_be_changed_midway() -> None:
    with pytest.raises(FrozenInstanceError):
        FULL.reps = 1  # type: ignore[misc]
