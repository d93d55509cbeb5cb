from __future__ import annotations

from configsvc import errors


def test_invalid_keeps_one_entry_per_field_and_reads_well() -> None:
    exc = errors.Invalid([("name", "too long"), ("config", "not an object")])
    assert exc.problems == [("name", "too long"), ("config", "not an object")]
    assert str(exc) == "name: too long; config: not an object"
    assert errors.Invalid.one("limit", "too big").problems == [("limit", "too big")]


def test_one_table_shows_each_error_over_http_and_on_the_feed() -> None:
    shown = errors.kind(errors.Unavailable("down"))
    assert (shown.status, shown.slug, shown.ws_code) == (503, "unavailable", "unavailable")
    assert errors.kind(errors.NotFound("x")).ws_code == "not_found"
    assert errors.kind(errors.DatabaseError("bug")) is errors.INTERNAL
    assert all(400 <= kind.status < 600 for kind in errors.KINDS.values())
