"""Whether the listener's connection hears notifications, proven by a round trip: a direct URL
passes, a connection that hears nothing sent is caught, an unreachable server is an outage."""

from __future__ import annotations

import urllib.parse

import asyncpg
import pytest

from configsvc import errors
from configsvc.devtools import pgcluster
from configsvc.live import hearing


async def test_a_direct_connection_hears_and_its_url_is_accepted(database_url, db) -> None:
    assert await hearing.hears(db, database_url)
    await hearing.check_url(database_url)


async def test_a_notification_that_never_arrives_is_noticed(database_url, admin_url) -> None:
    """Sent to another database, as a pooler may hand it to another server connection."""
    conn = await asyncpg.connect(database_url)
    try:
        assert not await hearing.hears(conn, admin_url, timeout_s=0.3)
        assert await hearing.hears(conn, database_url), (
            "a probe that went unheard leaves the connection as it was"
        )
    finally:
        await conn.close()


async def test_an_unreachable_server_is_an_outage_not_a_refusal(database_url) -> None:
    parts = urllib.parse.urlsplit(database_url)
    closed = parts._replace(netloc=f"127.0.0.1:{pgcluster.free_port()}").geturl()
    with pytest.raises(errors.Unavailable):
        await hearing.check_url(closed)
