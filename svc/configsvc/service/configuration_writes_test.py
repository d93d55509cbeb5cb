"""Configurations written: an unknown application, no move, a stale or missing version."""

from __future__ import annotations

import asyncpg
import pytest

from configsvc import errors
from configsvc.service import application_writes, configuration_writes, writing

W = writing.Write()


def _fields(name: str = "c", config: dict[str, object] | None = None) -> dict[str, object]:
    return {"name": name, "comments": "", "config": config or {}}


async def _revision(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT revision FROM revision_counter"))


async def test_create_under_an_unknown_application_is_invalid(pooled) -> None:
    with pytest.raises(errors.Invalid) as exc:
        await configuration_writes.create_configuration(pooled, W, "0" * 26, _fields())
    assert exc.value.problems[0][0] == "application_id"


async def test_a_configuration_never_moves_and_nothing_is_spent_trying(pooled, db) -> None:
    app = await application_writes.create_application(pooled, W, "app", "")
    cfg = await configuration_writes.create_configuration(
        pooled, W, app["id"], _fields(config={"v": 1})
    )
    moved = {**_fields(config={"v": 2}), "application_id": "0" * 26}
    with pytest.raises(errors.Invalid):
        await configuration_writes.replace_configuration(pooled, W, cfg["id"], moved, None)
    row = await db.fetchrow("SELECT version, revision FROM configurations")
    assert (row["version"], row["revision"]) == (1, cfg["revision"])
    assert await _revision(db) == cfg["revision"], "no revision was spent"


async def test_configuration_stale_and_missing(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "app", "")
    cfg = await configuration_writes.create_configuration(pooled, W, app["id"], _fields())
    with pytest.raises(errors.PreconditionFailed):
        await configuration_writes.replace_configuration(pooled, W, cfg["id"], _fields(), 9)
    with pytest.raises(errors.PreconditionFailed):
        await configuration_writes.delete_configuration(pooled, W, cfg["id"], 9)
    await configuration_writes.delete_configuration(pooled, W, cfg["id"], 1)
    with pytest.raises(errors.NotFound, match=f"no configuration with id {cfg['id']}"):
        await configuration_writes.delete_configuration(pooled, W, cfg["id"], None)
