"""Whether a connection hears notifications: the listener's URL must reach PostgreSQL itself.

Through PgBouncer in transaction mode a LISTEN stays on a server connection that is handed
to other clients meanwhile, and what arrives there is dropped or goes elsewhere: checked at
start-up (``python -m configsvc`` refuses such a URL) and on every reconnect of a listener.
"""

from __future__ import annotations

import asyncio

import asyncpg

from configsvc.db import failures

# A NOTIFY sent over another connection must reach the listener within this, or it hears
# nothing: through PgBouncer in transaction mode its LISTEN stays on a server connection that
# is handed to other clients meanwhile, and what arrives there is dropped or goes elsewhere.
HEAR_TIMEOUT_S = 5.0
PROBE_CHANNEL = "configsvc_listener_probe"
NOT_HEARD = (
    "the change listener's connection hears no notifications (LISTEN/NOTIFY), as happens "
    "through PgBouncer in transaction mode: set LISTEN_DATABASE_URL to a direct connection "
    "to PostgreSQL"
)


class NotHeard(Exception):
    """A notification sent to the listener's connection never reached it (see NOT_HEARD)."""


async def hears(conn: asyncpg.Connection, url: str, timeout_s: float = HEAR_TIMEOUT_S) -> bool:
    """Whether ``conn`` hears a NOTIFY sent over another connection to ``url``: a LISTEN that
    works, proven by a real round trip (a NOTIFY of its own would be heard even through a
    pooler that hands the LISTEN's server connection to whoever comes next)."""
    heard = asyncio.Event()

    def on_probe(*_: object) -> None:
        heard.set()

    await conn.add_listener(PROBE_CHANNEL, on_probe)
    try:
        sender = await asyncpg.connect(url, timeout=5, statement_cache_size=0)
        try:
            await sender.execute(f"NOTIFY {PROBE_CHANNEL}")
        finally:
            await sender.close()
        try:
            async with asyncio.timeout(timeout_s):
                await heard.wait()
        except TimeoutError:
            return False
        return True
    finally:
        await conn.remove_listener(PROBE_CHANNEL, on_probe)


async def check_url(url: str, timeout_s: float = HEAR_TIMEOUT_S) -> None:
    """Refuse a URL the listener would hear nothing through: :class:`NotHeard`. For start-up,
    before any worker follows the log through it."""
    with failures.classified():
        conn = await asyncpg.connect(url, timeout=5, statement_cache_size=0)
        try:
            if not await hears(conn, url, timeout_s):
                raise NotHeard(NOT_HEARD)
        finally:
            await conn.close()
