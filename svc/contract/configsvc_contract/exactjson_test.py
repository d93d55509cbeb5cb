"""JSON with exact numbers: Decimals out as PostgreSQL writes them, nothing else changed."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime

import pytest

from configsvc_contract import exactjson


def test_decimals_are_written_as_postgresql_writes_them() -> None:
    exact = "0.1000000000000000055511151231257827021181583404541015625"
    value = exactjson.loads(f'{{"a": [1.50, 1E+3, 2.5e-7, {exact}]}}')
    assert value["a"][0] == decimal.Decimal("1.50")
    assert exactjson.dumps(value) == f'{{"a":[1.50,1000,0.00000025,{exact}]}}'
    assert exactjson.dumps({"n": 3, "s": "x"}) == '{"n":3,"s":"x"}'


def test_strings_that_look_like_marks_stay_strings() -> None:
    value = {"s": "\x001.5\x00", "t": "\x00-2\x00"}
    assert exactjson.loads(exactjson.dumps(value)) == value


def test_datetimes_in_iso_8601_and_indentation() -> None:
    when = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    assert exactjson.dumps({"at": when}) == '{"at":"2026-11-28T06:00:00Z"}'
    assert exactjson.dumps({"x": decimal.Decimal("0.5")}, indent=2) == '{\n  "x": 0.5\n}'


def test_other_types_are_still_refused() -> None:
    with pytest.raises(TypeError):
        exactjson.dumps({"x": object()})
