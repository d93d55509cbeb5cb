"""The live phase's catch-up: how long a listener that was cut off takes to deliver what it
missed (``catchup_10k_s``)."""

from __future__ import annotations

import asyncio

import asyncpg

from bench import cpus, dataset, loadgen, scenarios, servers, stats, subscribers
from bench.plan import Plan
from configsvc.live import listener

# The workers' listener connections name themselves; pooled ones do not.
LISTENERS = """
SELECT pid, extract(epoch FROM backend_start)::float8 AS started
FROM pg_stat_activity WHERE datname = $1 AND application_name = $2
"""


async def catchup(
    plan: Plan,
    service: servers.Server,
    url: str,
    server_url: str,
    data: dataset.Dataset,
    pinning: cpus.Pinning,
    say: stats.Say,
) -> stats.Figures:
    """Cut the listener off, commit ``catchup_changes`` changes, let it back in: how long from
    its reconnect until a subscriber has the last of them?

    The listener's backend is terminated while the database refuses new connections, so it
    cannot come back until the writes are done; the pool keeps its connections (the service
    runs with DB_POOL_MIN = DB_POOL_MAX), so the writes still go through the API.
    """
    app = data.applications[1]
    mine = dataset.Dataset([app], [c for c in data.configurations if c.application_id == app])
    argv = [
        servers.ws_url(service, "/api/v1/ws"),
        "--app",
        app,
        "--since",
        str(await dataset.current_revision(url)),
    ]
    client = await asyncio.to_thread(subscribers.Remote, argv, pinning)
    admin, bench = await asyncpg.connect(server_url), await asyncpg.connect(url)
    try:
        old = {
            r["pid"]
            for r in await admin.fetch(LISTENERS, dataset.DB_NAME, listener.APPLICATION_NAME)
        }
        await admin.execute(f"ALTER DATABASE {dataset.DB_NAME} ALLOW_CONNECTIONS false")
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", list(old)
            )
            writes = await loadgen.run(
                service.url, scenarios.PUT, mine, 600, 8, total=plan.catchup_changes
            )
            last = int(await bench.fetchval("SELECT revision FROM revision_counter"))
        finally:
            await admin.execute(f"ALTER DATABASE {dataset.DB_NAME} ALLOW_CONNECTIONS true")
        reply = await asyncio.to_thread(client.ask, cmd="wait", revision=last, timeout_s=120)
        new = [
            r["started"]
            for r in await admin.fetch(LISTENERS, dataset.DB_NAME, listener.APPLICATION_NAME)
            if r["pid"] not in old
        ]
    finally:
        await admin.close()
        await bench.close()
        await asyncio.to_thread(client.close)
    delivered = reply["revisions"]
    say(f"  catch-up: {writes.requests - writes.errors} changes written, {delivered} delivered, "
        f"listeners before {sorted(old)}, reconnected at {new}")  # fmt: skip
    if not old or not new or reply["reached_at"] is None:
        return {"catchup_10k_s": None}
    return {"catchup_10k_s": stats.spread([reply["reached_at"] - min(new)])}
