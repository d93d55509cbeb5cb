"""Names and comments: the rules, and the patterns that document them exactly."""

from __future__ import annotations

import re
import sys

import pydantic
import pytest

from configsvc_contract.models import applications, names


@pytest.mark.parametrize("name", ["", " ", "\t\n", "x" * 257, 5, None])
def test_names_must_be_non_blank_strings_of_at_most_256(name) -> None:
    with pytest.raises(pydantic.ValidationError):
        applications.ApplicationIn.model_validate({"name": name})


def test_a_name_is_kept_in_nfc_and_its_case_kept() -> None:
    assert names.normal_name("Cafe\u0301") == "Caf\u00e9"
    assert names.normal_comments("line\n\tnext") == "line\n\tnext"
    with pytest.raises(ValueError, match="U\\+200B"):
        names.normal_name("a\u200bb")


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
        (names.name_pattern, names.normal_name, ("{}", "a{}", "{}a", "a{}b")),
        (names.comments_pattern, names.normal_comments, ("{}", "a{}b")),
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


def test_the_schema_of_a_comments_field_carries_the_pattern() -> None:
    schema: dict[str, object] = {}
    names.comments_schema(schema)
    assert schema == {"pattern": names.comments_pattern()}
