"""Splitting a SQL script into its statements, for migrations that run outside a transaction.

PostgreSQL runs a multi-statement query string as one implicit transaction, where
``CREATE INDEX CONCURRENTLY`` is refused; such a script has to be sent one statement at a time.
Backslash escapes in ``E'...'`` strings are not understood: write a quote as ``''``.
"""

from __future__ import annotations

import re

# What may hide a semicolon: a quoted string or identifier, a dollar-quoted body, a comment.
_OPAQUE = re.compile(
    r"""
      '(?:[^']|'')*'                          # 'string', with '' inside
    | "(?:[^"]|"")*"                          # "identifier"
    | (?P<tag>\$[A-Za-z_0-9]*\$)[\s\S]*?(?P=tag)   # $body$ ... $body$
    | --[^\n]*                                # -- comment
    | /\*[\s\S]*?\*/                          # /* comment */
    | ;                                       # a statement ends
    """,
    re.VERBOSE,
)


def statements(script: str) -> list[str]:
    """The statements of ``script`` in order, without their semicolons; comment-only parts go."""
    found, start = [], 0
    for match in _OPAQUE.finditer(script):
        if match.group() == ";":
            found.append(script[start : match.start()])
            start = match.end()
    found.append(script[start:])
    return [s.strip() for s in found if without_comments(s)]


def without_comments(sql: str) -> str:
    """``sql`` with its comments removed (not those look-alikes inside strings), stripped."""
    comments = (m for m in _OPAQUE.finditer(sql) if m.group().startswith(("--", "/*")))
    kept, start = [], 0
    for comment in comments:
        kept.append(sql[start : comment.start()])
        start = comment.end()
    kept.append(sql[start:])
    return " ".join(kept).strip()
