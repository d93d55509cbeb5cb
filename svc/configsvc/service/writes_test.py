"""The one write path: If-Match under concurrent writers, and dry runs that keep nothing."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from configsvc import errors
from configsvc.service import application_writes, configuration_writes, previews, writing
from configsvc.store import changes

W = writing.Write()
DRY = writing.Write(dry_run=True)


def _fields(name: str = "c", config: dict[str, object] | None = None) -> dict[str, object]:
    return {"name": name, "comments": "", "config": config or {}}


async def _revision(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT revision FROM revision_counter"))


async def test_if_match_holds_against_a_concurrent_writer(pooled) -> None:
    """Two writers with the same If-Match: exactly one wins (the row is locked to commit)."""
    app = await application_writes.create_application(pooled, W, "app", "")
    results = await asyncio.gather(
        *(application_writes.replace_application(
            pooled, W, app["id"], {"name": f"n{i}", "comments": ""}, 1
        ) for i in range(2)),
        return_exceptions=True,
    )  # fmt: skip
    assert sorted(type(r).__name__ for r in results) == ["PreconditionFailed", "dict"]


async def test_a_dry_run_answers_like_the_write_but_keeps_nothing(pooled, db) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    await db.add_listener(changes.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    app = await application_writes.create_application(pooled, W, "app", "")
    await asyncio.wait_for(heard.get(), 5)
    before = await _revision(db)

    with pytest.raises(previews.DryRun) as tried:
        await configuration_writes.create_configuration(
            pooled, DRY, app["id"], _fields(config={"x": 1})
        )
    shown = tried.value.preview
    assert (shown.resource["name"], shown.resource["revision"]) == ("c", before + 1)
    assert (shown.status, shown.would_be_version) == (201, 1)
    assert shown.patch() == [
        {"op": "add", "path": "/name", "value": "c"},
        {"op": "add", "path": "/comments", "value": ""},
        {"op": "add", "path": "/config", "value": {"x": 1}},
    ]
    with pytest.raises(previews.DryRun) as renamed:
        await application_writes.replace_application(
            pooled, DRY, app["id"], {"name": "b", "comments": ""}, 1
        )
    assert renamed.value.preview.would_be_version == 2
    assert renamed.value.preview.patch() == [{"op": "replace", "path": "/name", "value": "b"}]
    with pytest.raises(previews.DryRun) as deleted:
        await application_writes.delete_application(pooled, DRY, app["id"], 1)
    assert deleted.value.preview.status == 204
    with pytest.raises(errors.PreconditionFailed):
        await application_writes.delete_application(pooled, DRY, app["id"], 7)

    assert await _revision(db) == before, "a dry run spends no revision"
    assert await db.fetchval("SELECT count(*) FROM configurations") == 0
    assert await db.fetchval("SELECT name FROM applications") == "app"
    assert await db.fetchval("SELECT count(*) FROM changes") == 1
    real = await configuration_writes.create_configuration(pooled, W, app["id"], _fields())
    assert real["revision"] == before + 1
    assert json.loads(await asyncio.wait_for(heard.get(), 5)) == {"revision": before + 1}
    assert heard.empty(), "the dry runs sent no NOTIFY"
