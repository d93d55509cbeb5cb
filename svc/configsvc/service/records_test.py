"""What a write leaves behind, each with who wrote it and why: the change-log entry, the version
row of what it changed (a schema's own history for a schema) and the audit entry."""

from __future__ import annotations

from configsvc.service import (
    application_writes,
    configuration_writes,
    rollouts,
    schema_writes,
    writing,
)

WHO = writing.Write(actor=writing.Actor("tok_1", "ci"), reason="because", request_id="req-1")
STEPS = [{"percent": 100, "hold_s": 3600}]


async def test_a_write_leaves_its_entry_version_and_audit_with_who_and_why(pooled, db) -> None:
    app = await application_writes.create_application(pooled, WHO, "billing", "")
    fields = {"name": "prod", "comments": "", "config": {"n": 1}}
    cfg = await configuration_writes.create_configuration(pooled, WHO, app["id"], fields)
    who = ("tok_1", "ci", "because", "req-1")
    change = await db.fetchrow("SELECT * FROM changes WHERE revision = $1", cfg["revision"])
    assert (change["op"], change["configuration_id"]) == ("created", cfg["id"])
    assert (change["actor_id"], change["actor_name"], change["reason"], change["request_id"]) == who
    version = await db.fetchrow("SELECT * FROM configuration_versions WHERE revision = $1",
                                cfg["revision"])  # fmt: skip
    assert (version["configuration_id"], version["version"], version["op"]) == (
        cfg["id"],
        1,
        "created",
    )
    assert (
        version["actor_id"],
        version["actor_name"],
        version["reason"],
        version["request_id"],
    ) == who
    audit = await db.fetchrow("SELECT * FROM audit WHERE revision = $1", cfg["revision"])
    assert (audit["action"], audit["target_kind"], audit["target_id"], audit["outcome"]) == (
        "configuration.create", "configuration", cfg["id"], "ok")  # fmt: skip
    assert (audit["actor_name"], audit["reason"], audit["request_id"]) == ("ci", "because", "req-1")


async def test_a_schema_and_a_rollout_leave_no_configuration_version(pooled, db) -> None:
    app = await application_writes.create_application(pooled, WHO, "billing", "")
    fields = {"name": "prod", "comments": "", "config": {"n": 1}}
    cfg = await configuration_writes.create_configuration(pooled, WHO, app["id"], fields)
    schema, _ = await schema_writes.put(pooled, WHO, app["id"], "prod", {}, None, False)
    body = {"config": {"n": 2}, "steps": STEPS, "abort_on": {"rejected": 1}, "reason": "r"}
    made = await rollouts.start(pooled, WHO, cfg["id"], body, 1)
    assert await db.fetchval("SELECT count(*) FROM configuration_versions") == 1
    row = await db.fetchrow("SELECT * FROM schema_versions WHERE schema_id = $1", schema["id"])
    assert (row["version"], row["op"], row["actor_name"], row["reason"]) == (
        1,
        "created",
        "ci",
        "because",
    )
    trail = await db.fetch(
        "SELECT action, target_kind, target_id FROM audit WHERE revision > $1 ORDER BY id",
        cfg["revision"],
    )
    assert [tuple(r) for r in trail] == [
        ("schema.create", "schema", "prod"), ("rollout.start", "rollout", made["id"])]  # fmt: skip
    ops = await db.fetch("SELECT op FROM changes WHERE revision > $1 ORDER BY revision",
                         cfg["revision"])  # fmt: skip
    assert [r["op"] for r in ops] == ["schema_created", "rollout"]
