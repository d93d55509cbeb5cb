"""The configurations repository on its own: what it reads, JSON intact."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import writes
from configsvc.store import configurations


async def test_all_of_an_application_in_id_order_with_json_intact(pooled) -> None:
    app = await writes.create_application(pooled, writes.Write(), "app", "")
    made = [
        await writes.create_configuration(
            pooled, writes.Write(), app["id"],
            {"name": f"c{i}", "comments": "", "config": {"i": i, "l": [None, 1.5]}},
        )
        for i in range(3)
    ]  # fmt: skip
    async with pooled.connection() as conn:
        assert await configurations.all_of(conn, app["id"]) == sorted(made, key=lambda c: c["id"])
        assert await configurations.get(conn, made[0]["id"]) == made[0]
        with pytest.raises(errors.NotFound):
            await configurations.page(conn, "0" * 26, "", 10, 1024)
