"""The applications repository on its own: what it reads and the errors it raises."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import application_writes, writing
from configsvc.store import applications


async def test_get_and_find_by_name(pooled) -> None:
    app = await application_writes.create_application(pooled, writing.Write(), "billing", "pays")
    async with pooled.connection() as conn:
        assert await applications.get(conn, app["id"]) == {**app, "configuration_ids": []}
        assert await applications.get_by_name(conn, "billing") == app
        with pytest.raises(errors.NotFound, match="'nobody'"):
            await applications.get_by_name(conn, "nobody")
        with pytest.raises(errors.NotFound):
            await applications.require(conn, "0" * 26)


async def test_pages_are_in_id_order_after_the_cursor(pooled) -> None:
    made = [
        await application_writes.create_application(pooled, writing.Write(), f"app{i}", "")
        for i in range(5)
    ]
    ids = sorted(a["id"] for a in made)
    async with pooled.connection() as conn:
        assert [a["id"] for a in await applications.page(conn, "", 2, None)] == ids[:2]
        assert [a["id"] for a in await applications.page(conn, ids[1], 10, None)] == ids[2:]
        assert [a["name"] for a in await applications.page(conn, "", 10, "app3")] == ["app3"]
