"""Applications written: a taken name, a stale or missing version."""

from __future__ import annotations

import asyncpg
import pytest

from configsvc import errors
from configsvc.service import application_writes, writing

W = writing.Write()


def _fields(name: str = "c", config: dict[str, object] | None = None) -> dict[str, object]:
    return {"name": name, "comments": "", "config": config or {}}


async def _revision(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT revision FROM revision_counter"))


async def test_a_taken_name_is_a_conflict_and_writes_nothing(pooled, db) -> None:
    await application_writes.create_application(pooled, W, "billing", "")
    with pytest.raises(errors.Conflict, match="'billing'"):
        await application_writes.create_application(pooled, W, "billing", "")
    assert await _revision(db) == 1, "no revision was spent"
    assert await db.fetchval("SELECT count(*) FROM applications") == 1


async def test_a_stale_version_is_precondition_failed_a_missing_one_not_found(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "a", "")
    new = {"name": "b", "comments": "c"}
    with pytest.raises(errors.PreconditionFailed):
        await application_writes.replace_application(pooled, W, app["id"], new, if_version=2)
    with pytest.raises(errors.PreconditionFailed):
        await application_writes.delete_application(pooled, W, app["id"], if_version=2)
    with pytest.raises(errors.NotFound, match=r"no application with id 0+"):
        await application_writes.replace_application(pooled, W, "0" * 26, new, if_version=None)
    renamed = await application_writes.replace_application(pooled, W, app["id"], new, if_version=1)
    assert (renamed["name"], renamed["comments"], renamed["version"]) == ("b", "c", 2)
