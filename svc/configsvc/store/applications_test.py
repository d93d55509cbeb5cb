"""The applications repository on its own: errors it raises and what it writes."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.db import database
from configsvc.store import applications, changes


@pytest.fixture
async def conn(db):
    await database.init_connection(db)
    return db


async def test_create_get_and_find_by_name(conn) -> None:
    app = await applications.create(conn, "billing", "pays")
    assert await applications.get(conn, app["id"]) == {**app, "configuration_ids": []}
    assert await applications.get_by_name(conn, "billing") == app
    with pytest.raises(errors.NotFound, match="'nobody'"):
        await applications.get_by_name(conn, "nobody")


async def test_a_taken_name_is_a_conflict_and_writes_nothing(conn) -> None:
    await applications.create(conn, "billing", "")
    with pytest.raises(errors.Conflict, match="'billing'"):
        await applications.create(conn, "billing", "")
    assert (await changes.counter(conn))[0] == 1
    assert await conn.fetchval("SELECT count(*) FROM applications") == 1


async def test_a_stale_version_is_precondition_failed_a_missing_one_not_found(conn) -> None:
    app = await applications.create(conn, "a", "")
    with pytest.raises(errors.PreconditionFailed):
        await applications.replace(conn, app["id"], "b", "", if_version=2)
    with pytest.raises(errors.PreconditionFailed):
        await applications.delete(conn, app["id"], if_version=2)
    with pytest.raises(errors.NotFound):
        await applications.replace(conn, "0" * 26, "b", "", if_version=None)
    renamed = await applications.replace(conn, app["id"], "b", "c", if_version=1)
    assert (renamed["name"], renamed["comments"], renamed["version"]) == ("b", "c", 2)


async def test_pages_are_in_id_order_after_the_cursor(conn) -> None:
    made = [await applications.create(conn, f"app{i}", "") for i in range(5)]
    ids = sorted(a["id"] for a in made)
    assert [a["id"] for a in await applications.page(conn, "", 2, None)] == ids[:2]
    assert [a["id"] for a in await applications.page(conn, ids[1], 10, None)] == ids[2:]
    assert [a["name"] for a in await applications.page(conn, "", 10, "app3")] == ["app3"]
