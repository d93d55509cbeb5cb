"""What a dry run answers: the status the real write would have, the violations it would be
refused for, and the patch from the state now to the state it would leave."""

from __future__ import annotations

import decimal

import pytest

from configsvc.service import (
    application_writes,
    configuration_writes,
    previews,
    schema_writes,
    writing,
)

W, DRY = writing.Write(), writing.Write(dry_run=True)


async def _app_with(pooled, config: dict[str, object]) -> tuple[str, str]:
    app = await application_writes.create_application(pooled, W, "billing", "")
    fields = {"name": "prod", "comments": "", "config": config}
    cfg = await configuration_writes.create_configuration(pooled, W, app["id"], fields)
    return app["id"], cfg["id"]


async def test_a_schema_change_would_fail_names_each_configuration_it_fails(pooled) -> None:
    app_id, cfg_id = await _app_with(pooled, {"limit": 500})
    schema = {"type": "object", "properties": {"limit": {"maximum": 100}}}
    with pytest.raises(previews.DryRun) as tried:
        await schema_writes.put(pooled, DRY, app_id, "prod", schema, None, False)
    shown = tried.value.preview
    assert shown.status == 409
    assert [(e["configuration_id"], e["name"], e["field"], e["keyword"]) for e in shown.errors()] \
        == [(cfg_id, "prod", "config/limit", "maximum")]  # fmt: skip
    assert shown.patch() == [{"op": "add", "path": "/schema", "value": schema}]
    assert shown.would_be_version == 1
    async with pooled.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM schemas") == 0


async def test_an_application_previews_its_configurations_too(pooled) -> None:
    app_id, cfg_id = await _app_with(pooled, {"limit": 1})
    with pytest.raises(previews.DryRun) as tried:
        await application_writes.delete_application(pooled, DRY, app_id, None)
    shown = tried.value.preview
    assert shown.status == 204
    assert shown.before["configurations"][cfg_id]["config"] == {"limit": 1}
    gone = [{"op": "remove", "path": f"/{key}"} for key in ("name", "comments", "configurations")]
    assert shown.patch() == gone


def test_a_fraction_is_compared_exactly() -> None:
    near = decimal.Decimal("0.1000000000000000000001")
    assert previews.json_patch({"r": decimal.Decimal("0.1")}, {"r": near}) == [
        {"op": "replace", "path": "/r", "value": near}]  # fmt: skip
    assert previews.json_patch({"r": near}, {"r": near}) == []
