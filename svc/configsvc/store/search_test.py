"""Search's SQL on a real database: every scalar is reached, wildcards are literal."""

from __future__ import annotations

import json

from configsvc.store import search

DEEP = {"a": [{"b": {"needle": 1}}, "needle in an array"], "c": {"d": [[{"e": "x"}]]}}


async def _seed(db) -> None:  # type: ignore[no-untyped-def]
    await db.execute(
        "INSERT INTO applications (id, name, revision) VALUES ($1, 'hay', 1)", "A" * 26
    )
    await db.execute(
        "INSERT INTO configurations (id, application_id, name, config, revision) "
        "VALUES ($1, $2, 'stack', $3::jsonb, 1)", "C" * 26, "A" * 26, json.dumps(DEEP),
    )  # fmt: skip


def test_the_pattern_matches_anywhere_and_takes_wildcards_literally() -> None:
    assert search.pattern("a%b_c\\") == "%a\\%b\\_c\\\\%"


async def test_keys_and_values_are_found_at_any_depth_with_their_pointers(pooled, db) -> None:
    await _seed(db)
    async with pooled.connection() as conn:
        [hit] = await search.page(conn, "NEEDLE", "", 10, None)
        assert hit["match_count"] == 2
        assert [(m["where"], m["path"]) for m in hit["matches"]] == [
            ("key", "/a/0/b/needle"), ("value", "/a/1")
        ]  # fmt: skip
        [deep] = await search.page(conn, "x", "", 10, None)
        assert deep["matches"] == [{"where": "value", "path": "/c/d/0/0/e", "text": "x"}]
        assert await search.page(conn, "needle", "", 10, []) == []
        assert await search.page(conn, "needle", "C" * 26, 10, None) == []
