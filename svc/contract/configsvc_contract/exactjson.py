"""JSON with its numbers kept exactly, as the service's database (PostgreSQL jsonb) keeps them.

jsonb stores numbers as ``numeric``, exact to the last digit; Python's ``float`` is not. So
fractions are read as :class:`decimal.Decimal` and written back as the very digits PostgreSQL
writes (positional notation, scale kept). The server uses this for its database codec, its
responses and its feed; the client for what it reads, sends and caches.

:func:`json.dumps` cannot write a number it did not make itself (simplejson's ``use_decimal``
can, at the price of a second JSON library), so a Decimal goes out as a marked string that is
then unwrapped. The mark is U+0000 and a random token drawn once per process: no text can hold
it by accident or design. Text without fractions never takes that second step.
"""

from __future__ import annotations

import decimal
import json
import re
import secrets
from datetime import datetime
from typing import Any

_TOKEN = secrets.token_hex(8)
_MARKED = re.compile(rf'"\\u0000{_TOKEN}([-0-9.]+)\\u0000"')


def _digits(value: decimal.Decimal) -> str:
    text = str(value)  # three times faster than format(), positional unless very large or small
    return f"{value:f}" if "E" in text else text


def _mark(value: object) -> str:
    if isinstance(value, decimal.Decimal):
        return f"\x00{_TOKEN}{_digits(value)}\x00"
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")  # as the service writes them
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text of ``value`` (compact unless ``indent``); Decimals written exactly, as
    PostgreSQL writes them; datetimes in ISO 8601."""
    separators = (",", ":") if indent is None else None
    text = json.dumps(
        value, separators=separators, indent=indent, ensure_ascii=False, default=_mark
    )
    return _MARKED.sub(_unmark, text) if _TOKEN in text else text


def _unmark(match: re.Match[str]) -> str:
    return match.group(1)  # a function is twice as fast as the template r"\1"


def loads(text: str | bytes) -> Any:
    """Parse JSON text, fractions as Decimal; integers are exact as Python ints already."""
    return json.loads(text, parse_float=decimal.Decimal)
