"""The one write path: revisions, preconditions, errors that write nothing, and dry runs."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from configsvc import errors
from configsvc.service import writes
from configsvc.store import changes

W = writes.Write()
DRY = writes.Write(dry_run=True)


def _fields(name: str = "c", config: dict[str, object] | None = None) -> dict[str, object]:
    return {"name": name, "comments": "", "config": config or {}}


async def _revision(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT revision FROM revision_counter"))


async def test_a_taken_name_is_a_conflict_and_writes_nothing(pooled, db) -> None:
    await writes.create_application(pooled, W, "billing", "")
    with pytest.raises(errors.Conflict, match="'billing'"):
        await writes.create_application(pooled, W, "billing", "")
    assert await _revision(db) == 1, "no revision was spent"
    assert await db.fetchval("SELECT count(*) FROM applications") == 1


async def test_a_stale_version_is_precondition_failed_a_missing_one_not_found(pooled) -> None:
    app = await writes.create_application(pooled, W, "a", "")
    new = {"name": "b", "comments": "c"}
    with pytest.raises(errors.PreconditionFailed):
        await writes.replace_application(pooled, W, app["id"], new, if_version=2)
    with pytest.raises(errors.PreconditionFailed):
        await writes.delete_application(pooled, W, app["id"], if_version=2)
    with pytest.raises(errors.NotFound, match=r"no application with id 0+"):
        await writes.replace_application(pooled, W, "0" * 26, new, if_version=None)
    renamed = await writes.replace_application(pooled, W, app["id"], new, if_version=1)
    assert (renamed["name"], renamed["comments"], renamed["version"]) == ("b", "c", 2)


async def test_create_under_an_unknown_application_is_invalid(pooled) -> None:
    with pytest.raises(errors.Invalid) as exc:
        await writes.create_configuration(pooled, W, "0" * 26, _fields())
    assert exc.value.problems[0][0] == "application_id"


async def test_a_configuration_never_moves_and_nothing_is_spent_trying(pooled, db) -> None:
    app = await writes.create_application(pooled, W, "app", "")
    cfg = await writes.create_configuration(pooled, W, app["id"], _fields(config={"v": 1}))
    moved = {**_fields(config={"v": 2}), "application_id": "0" * 26}
    with pytest.raises(errors.Invalid):
        await writes.replace_configuration(pooled, W, cfg["id"], moved, None)
    row = await db.fetchrow("SELECT version, revision FROM configurations")
    assert (row["version"], row["revision"]) == (1, cfg["revision"])
    assert await _revision(db) == cfg["revision"], "no revision was spent"


async def test_configuration_stale_and_missing(pooled) -> None:
    app = await writes.create_application(pooled, W, "app", "")
    cfg = await writes.create_configuration(pooled, W, app["id"], _fields())
    with pytest.raises(errors.PreconditionFailed):
        await writes.replace_configuration(pooled, W, cfg["id"], _fields(), 9)
    with pytest.raises(errors.PreconditionFailed):
        await writes.delete_configuration(pooled, W, cfg["id"], 9)
    await writes.delete_configuration(pooled, W, cfg["id"], 1)
    with pytest.raises(errors.NotFound, match=f"no configuration with id {cfg['id']}"):
        await writes.delete_configuration(pooled, W, cfg["id"], None)


async def test_if_match_holds_against_a_concurrent_writer(pooled) -> None:
    """Two writers with the same If-Match: exactly one wins (the row is locked to commit)."""
    app = await writes.create_application(pooled, W, "app", "")
    results = await asyncio.gather(
        *(writes.replace_application(pooled, W, app["id"], {"name": f"n{i}", "comments": ""}, 1)
          for i in range(2)),
        return_exceptions=True,
    )  # fmt: skip
    assert sorted(type(r).__name__ for r in results) == ["PreconditionFailed", "dict"]


async def test_a_dry_run_answers_like_the_write_but_keeps_nothing(pooled, db) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    await db.add_listener(changes.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    app = await writes.create_application(pooled, W, "app", "")
    await asyncio.wait_for(heard.get(), 5)
    before = await _revision(db)

    with pytest.raises(writes.DryRun) as tried:
        await writes.create_configuration(pooled, DRY, app["id"], _fields(config={"x": 1}))
    shown = tried.value.preview
    assert (shown.resource["name"], shown.resource["revision"]) == ("c", before + 1)
    assert (shown.status, shown.would_be_version) == (201, 1)
    assert shown.patch() == [
        {"op": "add", "path": "/name", "value": "c"},
        {"op": "add", "path": "/comments", "value": ""},
        {"op": "add", "path": "/config", "value": {"x": 1}},
    ]
    with pytest.raises(writes.DryRun) as renamed:
        await writes.replace_application(pooled, DRY, app["id"], {"name": "b", "comments": ""}, 1)
    assert renamed.value.preview.would_be_version == 2
    assert renamed.value.preview.patch() == [{"op": "replace", "path": "/name", "value": "b"}]
    with pytest.raises(writes.DryRun) as deleted:
        await writes.delete_application(pooled, DRY, app["id"], 1)
    assert deleted.value.preview.status == 204
    with pytest.raises(errors.PreconditionFailed):
        await writes.delete_application(pooled, DRY, app["id"], 7)

    assert await _revision(db) == before, "a dry run spends no revision"
    assert await db.fetchval("SELECT count(*) FROM configurations") == 0
    assert await db.fetchval("SELECT name FROM applications") == "app"
    assert await db.fetchval("SELECT count(*) FROM changes") == 1
    real = await writes.create_configuration(pooled, W, app["id"], _fields())
    assert real["revision"] == before + 1
    assert json.loads(await asyncio.wait_for(heard.get(), 5)) == {"revision": before + 1}
    assert heard.empty(), "the dry runs sent no NOTIFY"
