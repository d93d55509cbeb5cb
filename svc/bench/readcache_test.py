"""The read cache phase's measurements, against one real two-worker service on a small seeded
database (each service start costs seconds: one is shared by every check)."""

from __future__ import annotations

import asyncio
import dataclasses

from bench import cpus, dataset, readcache, servers
from bench.plan import QUICK

BOUND = 0.1 * 2**20  # READ_CACHE_MAX_MB=0.1: a quarter of what the seeded data needs


async def test_staleness_and_bytes_are_measured_through_both_workers(database_url: str) -> None:
    data = await dataset.seed(database_url, applications=10, per_application=20)
    plan = dataclasses.replace(QUICK, reps=2, live_changes=5, live_interval_s=0.001)
    server = await asyncio.to_thread(
        servers.service, database_url, 2, cpus.plan(), read_cache_max_mb="0.1",
        keepalive_timeout_s="60",
    )  # fmt: skip
    try:
        one_worker = await readcache._read_everything(server, data)
        assert one_worker > BOUND - 4000, "filled up to its bound: the data is larger"
        assert one_worker <= BOUND, "held within the worker's bound"
        runs, both = await readcache._two_workers(server, data, plan)
        assert [len(latencies) for latencies in runs] == [5, 5]
        assert all(ms > 0 for latencies in runs for ms in latencies)
        assert one_worker < both <= 2 * BOUND, "both workers filled, each within its bound"
    finally:
        await asyncio.to_thread(server.stop)
