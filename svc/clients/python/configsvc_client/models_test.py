from __future__ import annotations

import re
import sys

import pydantic
import pytest

from configsvc_client import models


@pytest.mark.parametrize("name", ["", " ", "\t\n", "x" * 257, 5, None])
def test_names_must_be_non_blank_strings_of_at_most_256(name) -> None:
    with pytest.raises(pydantic.ValidationError):
        models.ApplicationIn.model_validate({"name": name})


def test_inputs_refuse_unknown_fields_and_non_object_configs() -> None:
    with pytest.raises(pydantic.ValidationError):
        models.ApplicationIn.model_validate({"name": "a", "extra": 1})
    with pytest.raises(pydantic.ValidationError):
        models.ConfigurationIn.model_validate({"application_id": "a", "name": "n", "config": []})


def test_feed_messages_are_told_apart_by_type() -> None:
    adapter: pydantic.TypeAdapter[models.ServerMessage] = pydantic.TypeAdapter(models.ServerMessage)
    msg = adapter.validate_python({"type": "synced", "application_id": "A", "revision": 3})
    assert isinstance(msg, models.Synced)


def _accepts(rule, value: str) -> bool:
    try:
        rule(value)
    except ValueError:
        return False
    return True


# Every control and format character of the BMP, whitespace, and a few beyond it: emoji, tags.
_CHARS = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF] + [
    "\U0001f600", "\U000e0001", "\U000e0041", "\U0001d173", "\U000110bd", "\U00020000"]  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "rule", "shapes"),
    [
        (models.name_pattern, models.normal_name, ("{}", "a{}", "{}a", "a{}b")),
        (models.comments_pattern, models.normal_comments, ("{}", "a{}b")),
    ],
)
def test_the_documented_patterns_accept_exactly_what_the_server_does(pattern, rule, shapes) -> None:
    """Clients and generated tests read these patterns: a name they call valid is one the
    server takes, and one it refuses (a control character, an ANSI escape, a zero-width space,
    whitespace at an edge) is one they can tell is wrong before sending it."""
    compiled = re.compile(pattern())
    for shape in shapes:
        for char in _CHARS:
            value = shape.format(char)
            assert bool(compiled.fullmatch(value)) == _accepts(rule, value), (shape, hex(ord(char)))
    assert sys.maxunicode >= 0x10FFFF


def test_a_metrics_grant_is_documented_as_on_every_application_only() -> None:
    schema = models.Grant.model_json_schema()
    assert {"properties": {"application_id": {"const": "*"}}} in schema["anyOf"]
    with pytest.raises(pydantic.ValidationError, match="metrics"):
        models.Grant.model_validate({"application_id": "0" * 26, "access": "metrics"})
