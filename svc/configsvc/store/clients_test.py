"""The fleet view's SQL on a real database: upserts, who counts as connected, head, pruning."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from configsvc.service import application_writes, configuration_writes, writing
from configsvc.store import clients

APP = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
EXPIRY_S, KEEP_S = 30.0, 600.0


def _row(worker: str, socket: int, **changes: Any) -> tuple[Any, ...]:
    """A row in ``UPSERT``'s column order."""
    fields: dict[str, Any] = {
        "client_id": f"c{socket}", "labels": {"zone": "a"}, "sdk": "py/1", "remote_addr": "::1",
        "connected_at": datetime.now(UTC), "disconnected_at": None, "delivered": 3,
        "applied": 2, "results": {},
    } | changes  # fmt: skip
    return (worker, socket, APP, *fields.values())


async def _shown(pooled) -> list[dict[str, Any]]:
    async with pooled.connection() as conn:
        return await clients.for_application(conn, APP, EXPIRY_S, KEEP_S)


async def test_a_live_workers_clients_are_connected_and_upserts_update_them(pooled) -> None:
    async with pooled.connection() as conn:
        await clients.heartbeat(conn, "h:1")
        await clients.upsert(conn, [_row("h:1", 1), _row("h:1", 2)])
        await clients.upsert(conn, [_row("h:1", 1, delivered=9, labels={"zone": "b"})])
    shown = await _shown(pooled)
    assert [(r["client_id"], r["connected"], r["disconnected_at"]) for r in shown] == [
        ("c1", True, None), ("c2", True, None)]  # fmt: skip
    assert (shown[0]["delivered_revision"], shown[0]["labels"]) == (9, {"zone": "b"})
    async with pooled.connection() as conn:
        assert await clients.for_application(conn, "0" * 26, EXPIRY_S, KEEP_S) == []


async def test_a_dead_workers_clients_are_gone_from_its_last_stamp(pooled, db) -> None:
    async with pooled.connection() as conn:
        await clients.heartbeat(conn, "h:2")
        await clients.upsert(conn, [_row("h:2", 1)])
    stamp = await db.fetchval(
        "UPDATE client_workers SET seen_at = now() - interval '1 minute' RETURNING seen_at"
    )
    [row] = await _shown(pooled)
    assert (row["connected"], row["disconnected_at"]) == (False, stamp)
    await db.execute("UPDATE client_workers SET seen_at = now() - interval '1 hour'")
    assert await _shown(pooled) == [], "gone longer than the keep time"


async def test_a_socket_that_said_goodbye_is_shown_until_the_keep_time(pooled, db) -> None:
    async with pooled.connection() as conn:
        await clients.heartbeat(conn, "h:3")
        await clients.upsert(conn, [_row("h:3", 1, disconnected_at=datetime.now(UTC))])
    [row] = await _shown(pooled)
    assert row["connected"] is False
    await db.execute("UPDATE client_subscriptions SET disconnected_at = now() - interval '1 hour'")
    assert await _shown(pooled) == []


async def test_prune_forgets_long_gone_clients_and_dead_workers_only(pooled, db) -> None:
    async with pooled.connection() as conn:
        for worker in ("live:1", "dead:1"):
            await clients.heartbeat(conn, worker)
        long_ago = datetime(2000, 1, 1, tzinfo=UTC)
        await clients.upsert(conn, [_row("live:1", 1), _row("live:1", 2, disconnected_at=long_ago),
                                    _row("dead:1", 1)])  # fmt: skip
    await db.execute(
        "UPDATE client_workers SET seen_at = now() - interval '2 hours' WHERE worker = 'dead:1'"
    )
    async with pooled.connection() as conn:
        await clients.prune(conn, KEEP_S, EXPIRY_S)
    rows = await db.fetch("SELECT worker, socket FROM client_subscriptions")
    assert [tuple(r) for r in rows] == [("live:1", 1)]
    assert await db.fetchval("SELECT array_agg(worker) FROM client_workers") == ["live:1"]


async def test_head_is_the_latest_revision_including_deletions(pooled) -> None:
    write = writing.Write()
    app = await application_writes.create_application(pooled, write, "billing", "")
    async with pooled.connection() as conn:
        assert await clients.head(conn, "0" * 26) == 0
        assert await clients.head(conn, app["id"]) == app["revision"]
    made = await configuration_writes.create_configuration(
        pooled, write, app["id"], {"name": "c", "comments": "", "config": {}}
    )
    await configuration_writes.delete_configuration(pooled, write, made["id"], None)
    async with pooled.connection() as conn:
        revision = await conn.fetchval("SELECT max(revision) FROM changes")
        assert await clients.head(conn, app["id"]) == revision > made["revision"]


def test_rows_are_upserted_in_the_documented_column_order() -> None:
    columns = clients.UPSERT.split("(", 1)[1].split(")", 1)[0].split(",")
    assert len(_row("w", 1)) == len(columns) == 12
