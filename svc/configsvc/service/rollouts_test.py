"""Rollouts' state changes as writes: rejections count only from targeted clients and abort at
the bound, and a candidate the schema no longer allows is aborted, never promoted."""

from __future__ import annotations

from typing import Any

from configsvc.service import (
    application_writes,
    configuration_writes,
    rollouts,
    schema_writes,
    writing,
)

W = writing.Write()


async def _started(pooled, steps: list[dict[str, Any]], **over: Any) -> tuple[str, str, str]:
    app = await application_writes.create_application(pooled, W, "billing", "")
    fields = {"name": "prod", "comments": "", "config": {"limit": 1}}
    cfg = await configuration_writes.create_configuration(pooled, W, app["id"], fields)
    body = {"config": {"limit": 9}, "steps": steps, "abort_on": {"rejected": 1},
            "reason": "try 9", **over}  # fmt: skip
    made = await rollouts.start(pooled, W, cfg["id"], body, 1)
    return app["id"], cfg["id"], made["id"]


async def _state(pooled, rollout_id: str) -> tuple[str, str | None]:
    async with pooled.connection() as conn:
        row = await conn.fetchrow("SELECT state, ended_reason FROM rollouts WHERE id = $1",
                                  rollout_id)  # fmt: skip
    return row["state"], row["ended_reason"]


async def test_rejections_count_from_targeted_clients_and_abort_at_the_bound(pooled) -> None:
    steps = [{"percent": 100, "hold_s": 3600}]
    app_id, cfg_id, rollout_id = await _started(
        pooled, steps, labels={"region": "eu"}, abort_on={"rejected": 2}
    )
    eu, us = {"region": "eu"}, {"region": "us"}

    async def reject(version: int, who: str, labels: dict[str, str]) -> bool:
        return await rollouts.rejected(pooled, app_id, cfg_id, version, who, labels, who, "bad")

    assert not await reject(2, "c1", us), "not targeted: not counted"
    assert not await reject(1, "c1", eu), "the base, not the candidate"
    assert not await reject(2, "c1", eu)
    assert not await reject(2, "c1", eu), "the same client counts once"
    assert await _state(pooled, rollout_id) == ("running", None)
    assert await reject(2, "c2", eu)
    state, why = await _state(pooled, rollout_id)
    assert state == "aborted"
    assert why is not None
    assert "2 client(s) rejected" in why
    assert "c2: bad" in why
    async with pooled.connection() as conn:
        trail = await conn.fetch("SELECT action FROM audit WHERE target_id = $1 ORDER BY id",
                                 rollout_id)  # fmt: skip
    assert [r["action"] for r in trail] == ["rollout.start", "rollout.abort"]


async def test_a_candidate_the_schema_no_longer_allows_is_aborted_not_promoted(pooled) -> None:
    app_id, cfg_id, rollout_id = await _started(pooled, [{"percent": 100, "hold_s": 0}])
    schema = {"type": "object", "properties": {"limit": {"maximum": 5}}}
    await schema_writes.put(pooled, W, app_id, "prod", schema, None, False)
    assert await rollouts.advance_due(pooled) == "aborted"
    state, why = await _state(pooled, rollout_id)
    assert state == "aborted"
    assert why is not None
    assert "no longer satisfies" in why
    async with pooled.connection() as conn:
        version = await conn.fetchval("SELECT version FROM configurations WHERE id = $1", cfg_id)
    assert version == 1, "no invalid version was written"
    assert await rollouts.advance_due(pooled) is None
