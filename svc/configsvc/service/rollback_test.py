"""Both rollbacks on the write path, with an actor: versions, audit and change log agree."""

from __future__ import annotations

import json

import asyncpg
import pytest

from configsvc import errors
from configsvc.service import application_writes, configuration_writes, previews, rollback, writing

OPS = writing.Write(
    actor=writing.Actor("tok_01", "ops-bot"), reason="bad deploy", request_id="req-1",
    remote_addr="10.0.0.7", user_agent="curl/8",
)  # fmt: skip


async def test_a_configuration_rollback_records_who_and_why_everywhere(pooled, db) -> None:
    app = await application_writes.create_application(pooled, OPS, "billing", "")
    cfg = await configuration_writes.create_configuration(
        pooled, OPS, app["id"], {"name": "p", "comments": "", "config": {"a": 1}}
    )
    await configuration_writes.replace_configuration(
        pooled, writing.Write(), cfg["id"], {"name": "p", "comments": "x", "config": {}}, None
    )
    back = await rollback.configuration(pooled, OPS, cfg["id"], 1, if_version=2)
    assert (back["version"], back["config"], back["comments"]) == (3, {"a": 1}, "")
    version = await db.fetchrow("SELECT * FROM configuration_versions WHERE version = 3")
    assert (version["op"], version["actor_id"], version["actor_name"]) == (
        "updated",
        "tok_01",
        "ops-bot",
    )
    assert (version["reason"], version["request_id"]) == ("bad deploy", "req-1")
    entry = await db.fetchrow("SELECT * FROM audit ORDER BY id DESC LIMIT 1")
    assert dict(entry) | {"id": 0, "at": None} == {
        "id": 0, "at": None, "actor_id": "tok_01", "actor_name": "ops-bot",
        "remote_addr": "10.0.0.7", "user_agent": "curl/8", "request_id": "req-1",
        "action": "configuration.rollback", "target_kind": "configuration",
        "target_id": cfg["id"], "application_id": app["id"], "outcome": "ok",
        "revision": back["revision"], "reason": "bad deploy", "detail": None,
    }  # fmt: skip
    logged = await db.fetchrow("SELECT * FROM changes WHERE revision = $1", back["revision"])
    assert (logged["reason"], logged["request_id"]) == ("bad deploy", "req-1")


async def test_a_version_that_is_a_deletion_is_no_target(pooled, db) -> None:
    app = await application_writes.create_application(pooled, OPS, "billing", "")
    cfg = await configuration_writes.create_configuration(
        pooled, OPS, app["id"], {"name": "p", "comments": "", "config": {}}
    )
    await configuration_writes.delete_configuration(pooled, OPS, cfg["id"], None)
    with pytest.raises(errors.Invalid, match="deletion"):
        await rollback.configuration(pooled, OPS, cfg["id"], 2, None)
    with pytest.raises(errors.PreconditionFailed):
        await rollback.configuration(pooled, OPS, cfg["id"], 1, if_version=1)
    back = await rollback.configuration(pooled, OPS, cfg["id"], 1, if_version=2)
    assert back["version"] == 3


async def test_an_application_rollback_is_one_change_with_every_configuration(
    pooled, db: asyncpg.Connection
) -> None:
    app = await application_writes.create_application(pooled, OPS, "billing", "")
    fields = {"comments": "", "config": {}}
    keep = await configuration_writes.create_configuration(
        pooled, OPS, app["id"], {**fields, "name": "k"}
    )
    at = keep["revision"]
    later = await configuration_writes.create_configuration(
        pooled, OPS, app["id"], {**fields, "name": "l"}
    )
    await configuration_writes.delete_configuration(pooled, OPS, keep["id"], None)
    done = await rollback.application(pooled, OPS, app["id"], at)
    assert [c["id"] for c in done["configurations"]] == [keep["id"]]
    assert done["deleted"] == [later["id"]]
    row = await db.fetchrow("SELECT * FROM changes WHERE revision = $1", done["revision"])
    assert row["op"] == "rolled_back"
    assert json.loads(row["resource"])["deleted"] == [later["id"]]
    ops = await db.fetch(
        "SELECT op FROM configuration_versions WHERE revision = $1 ORDER BY op", done["revision"]
    )
    assert [r["op"] for r in ops] == ["deleted", "restored"]
    action = await db.fetchval("SELECT action FROM audit WHERE revision = $1", done["revision"])
    assert action == "application.rollback"


async def test_a_dry_run_rollback_records_nothing(pooled, db) -> None:
    app = await application_writes.create_application(pooled, OPS, "billing", "")
    before = await db.fetchval("SELECT count(*) FROM audit")
    dry = writing.Write(dry_run=True)
    with pytest.raises(errors.Invalid) as refused:
        await rollback.application(pooled, dry, app["id"], 0)  # before it existed
    assert refused.value.extra == {"first_revision": 1}
    with pytest.raises(previews.DryRun):
        await rollback.application(pooled, dry, app["id"], 0, empty_ok=True)
    assert await db.fetchval("SELECT count(*) FROM audit") == before
    assert await db.fetchval("SELECT revision FROM revision_counter") == 1
