"""The audit trail's doors: refusals in their own transaction, never a secret."""

from __future__ import annotations

from configsvc.service import audit, writes


async def test_a_refusal_is_recorded_on_its_own(pooled, db) -> None:
    who = writes.Write(actor=writes.Actor("tok_9", "ci"), request_id="r-9", remote_addr="::1")
    await audit.refused(
        pooled, who, "configuration.update", "configuration", "C" * 26, "A" * 26, "denied",
        "token may not write to billing",
    )  # fmt: skip
    row = await db.fetchrow("SELECT * FROM audit")
    assert (row["outcome"], row["actor_name"], row["detail"]) == (
        "denied", "ci", "token may not write to billing"
    )  # fmt: skip
    assert (row["revision"], row["reason"], row["request_id"]) == (None, None, "r-9")
