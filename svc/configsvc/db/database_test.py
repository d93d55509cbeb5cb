"""JSONB goes in and out as Python objects; readiness says what is wrong."""

from __future__ import annotations

from configsvc.db import database


async def test_jsonb_round_trips_as_python_objects(db) -> None:
    await database.init_connection(db)
    value = {"a": [1, 2.5, None, True], "ü": {"nested": "ß"}}
    assert await db.fetchval("SELECT $1::jsonb", value) == value


async def test_readiness_problems_name_pending_migrations(client) -> None:
    db = client.app[database.DB]
    assert await database.problems(db) == []
    async with db.connection() as conn:
        await conn.execute("DELETE FROM migrations WHERE version = 2")
    assert await database.problems(db) == ["migrations pending: 0002_change_log.sql"]
