"""The configurations repository on its own: errors it raises and what it leaves behind."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.db import database
from configsvc.store import applications, changes, configurations


@pytest.fixture
async def conn(db):
    await database.init_connection(db)
    return db


@pytest.fixture
async def app(conn):
    return await applications.create(conn, "app", "")


async def test_create_under_an_unknown_application_is_invalid(conn) -> None:
    with pytest.raises(errors.Invalid) as exc:
        await configurations.create(conn, "0" * 26, "c", "", {})
    assert exc.value.problems[0][0] == "application_id"


async def test_replace_keeps_it_in_its_application_and_rolls_back_otherwise(conn, app) -> None:
    cfg = await configurations.create(conn, app["id"], "c", "", {"v": 1})
    fields = {"name": "c", "comments": "", "config": {"v": 2}, "application_id": "0" * 26}
    with pytest.raises(errors.Invalid):
        await configurations.replace(conn, cfg["id"], fields, None)
    assert await configurations.get(conn, cfg["id"]) == cfg
    assert (await changes.counter(conn))[0] == cfg["revision"], "no revision was spent"


async def test_stale_and_missing(conn, app) -> None:
    cfg = await configurations.create(conn, app["id"], "c", "", {})
    fields = {"name": "c", "comments": "", "config": {}}
    with pytest.raises(errors.PreconditionFailed):
        await configurations.replace(conn, cfg["id"], fields, 9)
    with pytest.raises(errors.PreconditionFailed):
        await configurations.delete(conn, cfg["id"], 9)
    await configurations.delete(conn, cfg["id"], 1)
    with pytest.raises(errors.NotFound):
        await configurations.delete(conn, cfg["id"], None)


async def test_all_of_an_application_in_id_order_with_json_intact(conn, app) -> None:
    made = [
        await configurations.create(conn, app["id"], f"c{i}", "", {"i": i, "l": [None, 1.5]})
        for i in range(3)
    ]
    assert await configurations.all_of(conn, app["id"]) == sorted(made, key=lambda c: c["id"])
    with pytest.raises(errors.NotFound):
        await configurations.page(conn, "0" * 26, "", 10)
