"""Schemas in PostgreSQL: which one covers a configuration, one history per name across a
deletion, and pruning that keeps the newest versions."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import application_writes, schema_writes, writing
from configsvc.store import resources
from configsvc.store import schemas as store

W = writing.Write()


async def _put(pooled, app_id: str, name: str, title: str = "") -> dict[str, object]:
    body = {"type": "object", "title": title}
    return (await schema_writes.put(pooled, W, app_id, name, body, None, False))[0]


async def test_a_configuration_is_covered_by_its_own_schema_else_the_default(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "billing", "")
    async with pooled.connection() as conn:
        assert await store.for_configuration(conn, app["id"], "prod") is None
    default = await _put(pooled, app["id"], store.DEFAULT)
    own = await _put(pooled, app["id"], "prod")
    async with pooled.connection() as conn:
        assert await store.for_configuration(conn, app["id"], "prod") == (own["id"], 1)
        assert await store.for_configuration(conn, app["id"], "other") == (default["id"], 1)
        with pytest.raises(errors.NotFound):
            await store.for_configuration(conn, resources.new_id(), "prod")


async def test_a_name_put_again_after_its_deletion_keeps_its_id_and_history(pooled) -> None:
    app = await application_writes.create_application(pooled, W, "billing", "")
    first = await _put(pooled, app["id"], "prod", "one")
    await _put(pooled, app["id"], "prod", "two")
    await schema_writes.delete(pooled, W, app["id"], "prod", None, False)
    again = await _put(pooled, app["id"], "prod", "four")
    assert (again["id"], again["version"]) == (first["id"], 4)
    async with pooled.connection() as conn:
        shown = await store.versions_page(conn, app["id"], "prod", 2**31 - 1, 10)
        assert [(v["version"], v["op"], v["schema"]["title"]) for v in shown] == [
            (4, "created", "four"), (3, "deleted", "two"), (2, "updated", "two"),
            (1, "created", "one"),
        ]  # fmt: skip
        assert await store.prune(conn, 0, 1) == 2, "all but the newest two"
        kept = await store.versions_page(conn, app["id"], "prod", 2**31 - 1, 10)
    assert [v["version"] for v in kept] == [4, 3]
