"""Each refused write is in the audit trail once (a 403 as denied, a 409 or 412 as invalid, by
the write path; a 404, which names nothing, by its route), and version rows say who and why."""

from __future__ import annotations

from configsvc.api.conftest import make, refusal
from configsvc.service import application_writes, writing


async def test_each_refused_write_is_audited_once(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": {}}
    cfg = await make(client, "POST", "/configurations", json=body)
    grants = [{"application_id": app["id"], "access": "read"}]
    reader = await make(client, "POST", "/tokens", json={"name": "r", "grants": grants})
    path, put = f"/configurations/{cfg['id']}", {"name": "prod", "config": {"x": 2}}
    as_reader = {"Authorization": f"Bearer {reader['token']}"}
    await refusal(client, "PUT", path, 403, json=put, headers=as_reader)
    await refusal(client, "PUT", path, 412, json=put, headers={"If-Match": '"9"'})
    await refusal(client, "POST", "/configurations", 409, json=body)
    await refusal(client, "PUT", f"/configurations/{'0' * 26}", 404, json=put)
    refused = await db.fetch("SELECT action, outcome FROM audit WHERE outcome <> 'ok' ORDER BY id")
    assert [tuple(r) for r in refused] == [
        ("configuration.update", "denied"), ("configuration.update", "invalid"),
        ("configuration.create", "invalid"), ("PUT /api/v1/configurations/{id}", "invalid"),
    ]  # fmt: skip


async def test_a_version_row_is_stamped_with_who_and_why(pooled, db) -> None:
    who = writing.Write(actor=writing.Actor("tok_1", "ci"), reason="why", request_id="r-1")
    app = await application_writes.create_application(pooled, who, "billing", "")
    row = await db.fetchrow(
        "SELECT actor_id, actor_name, reason, request_id FROM application_versions"
        " WHERE application_id = $1", app["id"],
    )  # fmt: skip
    assert tuple(row) == ("tok_1", "ci", "why", "r-1")
    anonymous = await application_writes.create_application(pooled, writing.Write(), "other", "")
    row = await db.fetchrow("SELECT actor_id, reason FROM application_versions "
                            "WHERE application_id = $1", anonymous["id"])  # fmt: skip
    assert tuple(row) == (None, None), "an empty reason is none, not ''"
