"""JSON as PostgreSQL's jsonb holds it: numbers kept exactly, in both directions.

jsonb stores numbers as ``numeric``, exact to the last digit; Python's ``float`` is not. So
fractions are read as :class:`decimal.Decimal` and written back as the very digits PostgreSQL
writes (positional notation, scale kept). :func:`json.dumps` cannot write a number it did not
make itself, so a Decimal goes out as a string wrapped in U+0000 markers, which are then
unwrapped: no stored text can hold U+0000 (jsonb refuses it), so no marker is ever ambiguous.
A body without fractions never takes that second step.
"""

from __future__ import annotations

import decimal
import json
import re
from typing import Any

_MARKED = re.compile(r'"\\u0000([-0-9.]+)\\u0000"')


def _mark(value: object) -> str:
    if isinstance(value, decimal.Decimal):
        return f"\x00{value:f}\x00"
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``; Decimals written exactly, as PostgreSQL writes them."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_mark)
    return _MARKED.sub(r"\1", text) if '"\\u0000' in text else text


def loads(text: str | bytes) -> Any:
    """Parse JSON text, fractions as Decimal; integers are exact as Python ints already."""
    return json.loads(text, parse_float=decimal.Decimal)
