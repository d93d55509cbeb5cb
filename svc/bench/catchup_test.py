"""The catch-up phase finds the workers' listener backends by name, and only them."""

from __future__ import annotations

import asyncpg

from bench import catchup, dataset
from configsvc.live import listener


async def test_the_listener_backends_are_found_by_their_name_and_pooled_ones_are_not(
    database_url: str, db: asyncpg.Connection
) -> None:
    name = await db.fetchval("SELECT current_database()")
    heard = await asyncpg.connect(
        database_url, server_settings={"application_name": listener.APPLICATION_NAME}
    )
    try:
        found = {r["pid"] for r in await db.fetch(catchup.LISTENERS, name,
                                                  listener.APPLICATION_NAME)}  # fmt: skip
        assert found == {heard.get_server_pid()}, "the plain connection is not a listener"
        assert await dataset.current_revision(database_url) == 0, "a fresh database's counter"
    finally:
        await heard.close()
