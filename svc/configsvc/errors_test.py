from __future__ import annotations

from configsvc import errors


def test_invalid_keeps_one_entry_per_field_and_reads_well() -> None:
    exc = errors.Invalid([("name", "too long"), ("config", "not an object")])
    assert exc.problems == [("name", "too long"), ("config", "not an object")]
    assert str(exc) == "name: too long; config: not an object"
    assert errors.Invalid.one("limit", "too big").problems == [("limit", "too big")]
