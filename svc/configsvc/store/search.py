"""Search: application names, configuration names, and the keys and values inside
configurations. SQL only.

One row per application or configuration that matched, in id order (so the usual cursor pages
it), with where it matched: a name, or the path of a key or of a scalar value. Matching is a
case-insensitive substring (ILIKE with the query's own ``%``, ``_`` and ``\\`` escaped).
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

# $1: the ILIKE pattern; $2: the id to start after; $3: rows; $4: readable application ids
# (NULL: all); $5: matches shown per row. Configurations are walked down to every scalar:
# object members are keys (their names match), array elements are not.
SEARCH = """
WITH RECURSIVE
apps AS (
    SELECT id, name FROM applications WHERE $4::text[] IS NULL OR id = ANY($4)
),
configs AS (
    SELECT c.id, c.name, c.config, c.application_id, a.name AS application_name
    FROM configurations c JOIN apps a ON a.id = c.application_id
    WHERE c.id > $2
),
walk (id, path, key, value, is_key) AS (
    SELECT c.id, ARRAY[e.key], e.key, e.value, true
    FROM configs c CROSS JOIN LATERAL jsonb_each(c.config) e
  UNION ALL
    SELECT w.id, w.path || kid.key, kid.key, kid.value, kid.is_key
    FROM walk w CROSS JOIN LATERAL (
        SELECT o.key, o.value, true AS is_key
        FROM jsonb_each(CASE WHEN jsonb_typeof(w.value) = 'object' THEN w.value
                             ELSE '{}'::jsonb END) o
        UNION ALL
        SELECT (a.n - 1)::text, a.value, false
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.value) = 'array' THEN w.value
                                       ELSE '[]'::jsonb END) WITH ORDINALITY AS a (value, n)
    ) kid
),
matches (id, kind, path, text) AS (
    SELECT id, 'application_name', NULL::text[], name FROM apps WHERE id > $2 AND name ILIKE $1
    UNION ALL
    SELECT id, 'configuration_name', NULL, name FROM configs WHERE name ILIKE $1
    UNION ALL
    SELECT id, 'key', path, key FROM walk WHERE is_key AND key ILIKE $1
    UNION ALL
    SELECT id, 'value', path, value #>> '{}' FROM walk
    WHERE jsonb_typeof(value) IN ('string', 'number', 'boolean') AND value #>> '{}' ILIKE $1
)
SELECT m.id,
       c.id IS NOT NULL AS is_configuration,
       coalesce(c.application_id, m.id) AS application_id,
       coalesce(c.application_name, a.name) AS application_name,
       c.name AS configuration_name,
       count(*) AS match_count,
       (array_agg(m.kind ORDER BY m.kind, m.path))[1:$5] AS kinds,
       (array_agg(array_to_json(m.path)::text ORDER BY m.kind, m.path))[1:$5] AS paths,
       (array_agg(left(m.text, 200) ORDER BY m.kind, m.path))[1:$5] AS texts
FROM matches m LEFT JOIN configs c ON c.id = m.id LEFT JOIN apps a ON a.id = m.id
GROUP BY m.id, c.id, c.application_id, c.application_name, c.name, a.name
ORDER BY m.id
LIMIT $3
"""

MATCHES_SHOWN = 10

# The recursive walk's row estimates are huge, so PostgreSQL would JIT-compile the query: that
# costs about two seconds each time, for a query that runs in milliseconds.
NO_JIT = "SET LOCAL jit = off"


def pattern(query: str) -> str:
    """``query`` as an ILIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _pointer(path_json: str | None) -> str | None:
    """``["a", "b/c"]`` -> ``/a/b~1c`` (RFC 6901)."""
    if path_json is None:
        return None
    parts = json.loads(path_json)
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _hit(row: asyncpg.Record) -> dict[str, Any]:
    matches = [
        {"where": kind, "path": _pointer(path), "text": text}
        for kind, path, text in zip(row["kinds"], row["paths"], row["texts"], strict=True)
    ]
    return {
        "id": row["id"],
        "kind": "configuration" if row["is_configuration"] else "application",
        "application_id": row["application_id"],
        "application_name": row["application_name"],
        "configuration_name": row["configuration_name"],
        "match_count": row["match_count"],
        "matches": matches,
    }


async def page(
    conn: asyncpg.Connection, query: str, after: str, limit: int, readable: list[str] | None
) -> list[dict[str, Any]]:
    """Up to ``limit`` hits after the id ``after``, in id order."""
    async with conn.transaction():
        await conn.execute(NO_JIT)
        rows = await conn.fetch(SEARCH, pattern(query), after, limit, readable, MATCHES_SHOWN)
    return [_hit(row) for row in rows]
