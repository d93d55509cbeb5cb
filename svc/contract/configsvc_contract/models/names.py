"""What a name and comments may hold, as a rule (``normal_name``) and as a schema pattern.

One spelling is one name (NFC); nothing invisible (controls, format characters) in either.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

NAME_MAX = 256
COMMENTS_MAX = 1024
# Line breaks and tabs are what a comment may hold that a name may not.
_COMMENT_LAYOUT = frozenset("\t\n\r")


def _invisible(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first control (Cc) or format (Cf) character of ``value`` not in ``allowed``."""
    for char in value:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cf"):
            return char
    return None


def normal_name(value: str) -> str:
    """A name as it is stored and looked up: NFC, so that one spelling is one name.

    ``ValueError`` for what no name may be: blank, padded with whitespace, or holding a control
    or format character (ANSI escapes, zero-width spaces). Case is kept: ``Café`` is not ``café``.
    """
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValueError("must not be blank")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    char = _invisible(value)
    if char is not None:
        raise ValueError(f"must not contain the control or format character U+{ord(char):04X}")
    return value


def normal_comments(value: str) -> str:
    """Comments in NFC; line breaks and tabs allowed, other control and format characters not."""
    value = unicodedata.normalize("NFC", value)
    char = _invisible(value, _COMMENT_LAYOUT)
    if char is not None:
        raise ValueError(f"must not contain the control or format character U+{ord(char):04X}")
    return value


@functools.cache
def _refused() -> tuple[list[int], list[int]]:
    """The code points no name or comment may hold (controls and format characters), and the
    whitespace ``str.strip`` removes: one pass over Unicode, made when a schema is first built."""
    invisible, spaces = [], []
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf"):
            invisible.append(code)
        elif char.isspace():
            spaces.append(code)
    return invisible, spaces


def _class(refused: list[int]) -> str:
    """``[^...]`` of these sorted code points. In the BMP, ranges of ``\\uHHHH`` escapes, which
    ECMA 262, Python and Rust regexes read alike; beyond it each character itself and no ranges
    (the engines spell those escapes differently, and ECMA 262 without the u flag reads an
    astral character as two code units: a range of them would not even compile)."""
    spans: list[list[int]] = []
    for code in refused:
        if spans and spans[-1][1] == code - 1 and code <= 0xFFFF:
            spans[-1][1] = code
        else:
            spans.append([code, code])

    def one(code: int) -> str:
        return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)

    return "[^" + "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in spans) + "]"


@functools.cache
def name_pattern() -> str:
    """What normal_name accepts, as a JSON Schema pattern (the lengths are the schema's own
    keywords): no control or format character, no whitespace first or last."""
    invisible, spaces = _refused()
    char, edge = _class(invisible), _class(sorted(invisible + spaces))
    return f"^{edge}({char}*{edge})?$"


@functools.cache
def comments_pattern() -> str:
    """What normal_comments accepts: no control or format character but line breaks and tabs."""
    layout = {ord(c) for c in _COMMENT_LAYOUT}
    return f"^{_class([c for c in _refused()[0] if c not in layout])}*$"


def _name_schema(schema: dict[str, Any]) -> None:
    schema["pattern"] = name_pattern()


def comments_schema(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` of a comments-like field: documents what normal_comments takes."""
    schema["pattern"] = comments_pattern()


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(normal_name),
    Field(
        description="No control or format character; no whitespace first or last.",
        json_schema_extra=_name_schema,
    ),
]
Comments = Annotated[
    str,
    StringConstraints(max_length=COMMENTS_MAX),
    AfterValidator(normal_comments),
    Field(
        description="No control or format character but line breaks and tabs.",
        json_schema_extra=comments_schema,
    ),
]
