"""Rollouts in PostgreSQL: who a step reaches, one running rollout per configuration, one
worker advancing a due rollout, and a rejection counted once per client."""

from __future__ import annotations

from typing import Any

import pytest

from configsvc import errors
from configsvc.store import resources
from configsvc.store import rollouts as store


def ids_in(rollout_id: str, percent: int, n: int = 400) -> set[str]:
    return {f"c{i}" for i in range(n) if store.targeted(rollout_id, percent, {}, f"c{i}", {})}


def test_the_share_is_stable_grows_with_the_percent_and_needs_a_client_id() -> None:
    rid = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"
    five, fifty, all_ = ids_in(rid, 5), ids_in(rid, 50), ids_in(rid, 100)
    assert five <= fifty <= all_
    assert len(all_) == 400
    assert 100 < len(fifty) < 300
    assert 0 < len(five) < 60
    assert ids_in(rid, 50) == fifty, "the same clients every time"
    assert not store.targeted(rid, 99, {}, None, {})
    assert store.targeted(rid, 100, {}, None, {})
    assert not store.targeted(rid, 100, {"region": "eu"}, "c1", {"region": "us"})
    assert store.targeted(rid, 100, {"region": "eu"}, "c1", {"region": "eu", "az": "1"})


def test_another_rollout_puts_other_clients_first() -> None:
    assert ids_in("01JDQ2Z8B6M4R1V3XK7N9P0TQS", 50) != ids_in("01JDQ2Z8B6M4R1V3XK7N9P0TQT", 50)


def _config() -> dict[str, Any]:
    return {"id": resources.new_id(), "application_id": resources.new_id(), "version": 3,
            "name": "prod", "comments": "base", "config": {"limit": 1}}  # fmt: skip


def _body(hold_s: float = 3600) -> dict[str, Any]:
    steps = [{"percent": 10, "hold_s": hold_s}, {"percent": 100, "hold_s": 3600}]
    return {"config": {"limit": 2}, "steps": steps, "abort_on": {"rejected": 2}, "reason": "r"}


async def test_a_configuration_has_one_running_rollout_at_a_time(pooled) -> None:
    config = _config()
    async with pooled.connection() as conn:
        first = await store.insert(conn, resources.new_id(), config, _body())
        with pytest.raises(errors.Conflict, match="already has a running rollout"):
            await store.insert(conn, resources.new_id(), config, _body())
        await store.end(conn, first["id"], "aborted", "no")
        await store.insert(conn, resources.new_id(), config, _body())
        assert await store.by_state(conn) == {"aborted": 1, "running": 1}
    shown = store.resource(first)
    assert (shown["state"], shown["percent"], shown["base_version"]) == ("running", 10, 3)
    candidate = store.candidate_of(first, config)
    assert (candidate["config"], candidate["version"], candidate["comments"]) == (
        {"limit": 2}, 4, "base")  # fmt: skip


async def test_a_due_rollout_is_advanced_by_one_worker_at_a_time(pooled) -> None:
    async with pooled.connection() as conn:
        assert await store.next_due_s(conn) is None
        made = await store.insert(conn, resources.new_id(), _config(), _body(hold_s=0))
        assert await store.next_due_s(conn) <= 0
    async with pooled.connection() as one, pooled.connection() as other, one.transaction():
        assert (await store.due(one))["id"] == made["id"]
        assert await store.due(other) is None, "locked by the first: skipped, not waited for"
        moved = await store.move(one, made["id"], 1, 3600)
        assert moved["step"] == 1
    async with pooled.connection() as conn:
        assert await store.due(conn) is None
        assert 3500 < await store.next_due_s(conn) <= 3600


async def test_a_client_rejecting_twice_counts_once(pooled) -> None:
    async with pooled.connection() as conn:
        made = await store.insert(conn, resources.new_id(), _config(), _body())
        assert await store.reject(conn, made["id"], "c1", "c1", "too high") == 1
        assert await store.reject(conn, made["id"], "c1", "c1", "again") == 1
        assert await store.reject(conn, made["id"], "socket-7", None, None) == 2
        seen = await store.rejections(conn, made["id"])
    assert [(r["client_id"], r["reason"]) for r in seen] == [("c1", "too high"), (None, None)]
