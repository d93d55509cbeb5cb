from __future__ import annotations

from bench import notify_floor


async def test_the_floor_is_measured_for_every_notification(database_url) -> None:
    latencies = await notify_floor.measure(database_url, count=20, interval_s=0.002)
    assert len(latencies) == 20
    assert all(0 < ms < 5000 for ms in latencies)


async def test_the_durable_floor_commits_a_write_with_each_notification(database_url, db) -> None:
    latencies = await notify_floor.measure(database_url, count=20, interval_s=0.002, durable=True)
    assert len(latencies) == 20
    assert await db.fetchval("SELECT n FROM bench_notify_floor WHERE id = 1") == 20
