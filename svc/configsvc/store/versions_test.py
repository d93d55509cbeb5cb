"""Versions are pruned only past both bounds, the newest never, and the horizon follows."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import application_writes, configuration_writes, writing
from configsvc.store import versions

W = writing.Write()
DAY = 86400


async def ten_versions(pooled) -> tuple[dict, dict]:  # type: ignore[type-arg]
    app = await application_writes.create_application(pooled, W, "billing", "")
    cfg = await configuration_writes.create_configuration(
        pooled, W, app["id"], {"name": "p", "comments": "", "config": {"n": 1}}
    )
    for n in range(2, 11):
        await configuration_writes.replace_configuration(
            pooled, W, cfg["id"], {"name": "p", "comments": "", "config": {"n": n}}, None
        )
    return app, cfg


async def kept(db, config_id: str) -> list[int]:  # type: ignore[no-untyped-def]
    rows = await db.fetch(
        "SELECT version FROM configuration_versions WHERE configuration_id = $1 ORDER BY version",
        config_id,
    )
    return [r["version"] for r in rows]


async def test_a_version_goes_only_when_both_old_and_far_behind(pooled, db) -> None:
    _, cfg = await ten_versions(pooled)
    assert await versions.prune(db, 30 * DAY, 3) == 0, "far behind, but young"
    await db.execute(
        "UPDATE configuration_versions SET committed_at = now() - interval '40 days' "
        "WHERE version <= 8"
    )
    assert await versions.prune(db, 30 * DAY, 20) == 0, "old, but within the kept count"
    assert await versions.prune(db, 30 * DAY, 3) == 6, "old AND more than 3 behind 10"
    assert await kept(db, cfg["id"]) == [7, 8, 9, 10]
    with pytest.raises(errors.Gone):
        await versions.configuration_version(db, cfg["id"], 6)
    horizon = await db.fetchval("SELECT history_from FROM revision_counter")
    seventh = await db.fetchval(
        "SELECT revision FROM configuration_versions WHERE version = 7 AND configuration_id = $1",
        cfg["id"],
    )
    assert horizon == seventh, "states before the oldest kept version can no longer be rebuilt"


async def test_the_newest_version_is_never_pruned(pooled, db) -> None:
    app, cfg = await ten_versions(pooled)
    await configuration_writes.delete_configuration(pooled, W, cfg["id"], None)
    await db.execute("UPDATE configuration_versions SET committed_at = now() - interval '9 years'")
    await db.execute("UPDATE application_versions SET committed_at = now() - interval '9 years'")
    await versions.prune(db, DAY, 0)
    assert await kept(db, cfg["id"]) == [11], "only the deletion, the newest, is left"
    assert (await versions.application_page(db, app["id"], 2**31 - 1, 10))[0]["op"] == "created"
