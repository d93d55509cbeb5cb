"""Schema changes re-check the configurations they cover: 409 listing those that fail unless
forced (then shown invalid, never rewritten); a deletion falls back to `*`, checked again."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.api.conftest import make, refusal
from configsvc.api.schemas_test import LIMITS, setup
from configsvc.service import application_writes, configuration_writes, schema_writes, writing

W = writing.Write()


async def test_a_schema_current_configurations_fail_is_409_unless_forced(client) -> None:
    app, cfg = await setup(client, {"limits": {"rate": 500}})
    path = f"/applications/{app['id']}/schemas/*"
    body = await refusal(client, "PUT", path, 409, json=LIMITS)
    assert body["type"] == "urn:configsvc:problem:schema-conflict"
    assert body["configurations"] == [
        {"id": cfg["id"], "name": "prod", "errors": [
            {"field": "config/limits/rate", "keyword": "maximum",
             "message": "500 is greater than the maximum of 100"}]}
    ]  # fmt: skip
    await refusal(client, "GET", path, 404)
    await make(client, "PUT", f"{path}?force=true", json=LIMITS)
    shown = await make(client, "GET", f"/configurations/{cfg['id']}")
    assert shown["config"] == {"limits": {"rate": 500}}, "never rewritten"
    assert shown["schema_status"] == "invalid"
    assert [e["keyword"] for e in shown["schema_errors"]] == ["maximum"]
    listed = await make(client, "GET", f"/applications/{app['id']}/configurations")
    assert listed["items"][0]["schema_status"] == "invalid"
    fixed = await make(
        client, "PUT", f"/configurations/{cfg['id']}",
        json={"name": "prod", "config": {"limits": {"rate": 50}}},
    )  # fmt: skip
    assert (fixed["schema_status"], fixed["schema_errors"]) == ("valid", [])
    # A schema of its own takes over from `*`; deleting it falls back to `*`, checked again.
    await make(client, "PUT", f"/applications/{app['id']}/schemas/prod", json={"type": "object"})
    await make(
        client, "PUT", f"/configurations/{cfg['id']}",
        json={"name": "prod", "config": {"limits": {"rate": 500}}},
    )  # fmt: skip
    await refusal(client, "DELETE", f"/applications/{app['id']}/schemas/prod", 409)
    await make(client, "DELETE", f"/applications/{app['id']}/schemas/prod?force=true")
    assert (await make(client, "GET", f"/configurations/{cfg['id']}"))["schema_status"] == (
        "invalid"
    )


async def test_a_409_shows_the_first_errors_and_a_forced_change_stores_them_all(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "billing", "")
    config = {f"k{i}": "x" for i in range(8)}
    fields = {"name": "prod", "comments": "", "config": config}
    made = await configuration_writes.create_configuration(pooled, W, app["id"], fields)
    strict = {"type": "object", "additionalProperties": {"type": "integer"}}
    with pytest.raises(errors.SchemaConflict) as refused:
        await schema_writes.put(pooled, W, app["id"], "prod", strict, None, False)
    [failing] = refused.value.configurations
    assert (failing["id"], len(failing["errors"])) == (made["id"], schema_writes.FIRST_ERRORS)
    await schema_writes.put(pooled, W, app["id"], "prod", strict, None, True)
    async with pooled.connection() as conn:
        stored = await conn.fetchval(
            "SELECT schema_errors FROM configurations WHERE id = $1", made["id"]
        )
    assert len(stored) == 8


async def test_if_match_and_deleting_what_is_not_there_are_refused(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "billing", "")
    with pytest.raises(errors.PreconditionFailed, match="does not exist"):
        await schema_writes.put(pooled, W, app["id"], "prod", {}, 1, False)
    with pytest.raises(errors.NotFound):
        await schema_writes.delete(pooled, W, app["id"], "prod", None, False)
    created, new = await schema_writes.put(pooled, W, app["id"], "prod", {}, None, False)
    assert new
    with pytest.raises(errors.PreconditionFailed):
        await schema_writes.delete(pooled, W, app["id"], "prod", 2, False)
    revision = await schema_writes.delete(pooled, W, app["id"], "prod", 1, False)
    assert revision == created["revision"] + 1
