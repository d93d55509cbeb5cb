"""The calls on history and rollback, against the real server (in-process, real database)."""

from __future__ import annotations

import pytest

from configsvc_client import api, errors

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


async def test_history_diff_and_rollbacks(rest: api.ConfigClient, db) -> None:
    app = await rest.create_application("billing")
    cfg = await rest.create_configuration(app.id, "limits", {"rate": 1})
    changed = await rest.replace_configuration(cfg.id, "limits", {"rate": 2, "burst": 9})
    page = await rest.versions(cfg.id, limit=1)
    assert [v.version for v in page.items] == [2]
    assert page.next_cursor is not None
    assert (await rest.version(cfg.id, 1)).config == {"rate": 1}
    diff = await rest.diff(cfg.id, 1, 2)
    assert (diff.from_, diff.to, diff.name, diff.comments) == (1, 2, None, None)
    assert sorted(op["path"] for op in diff.patch) == ["/burst", "/rate"]
    back = await rest.rollback(cfg.id, 1, reason="too fast", if_match=f'"{changed.version}"')
    assert (back.version, back.config) == (3, {"rate": 1})
    assert (await rest.versions(cfg.id)).items[0].reason == "too fast"
    done = await rest.rollback_application(app.id, cfg.revision - 1, reason="start over")
    assert (done.deleted, done.configurations) == ([cfg.id], [])
    with pytest.raises(errors.ValidationFailed) as before:
        await rest.rollback_application(app.id, app.revision - 1)
    assert before.value.problem is not None
    assert before.value.problem.first_revision == app.revision
    emptied = await rest.rollback_application(app.id, app.revision - 1, empty_ok=True)
    assert emptied.deleted == []
    await db.execute("DELETE FROM configuration_versions WHERE version = 1")
    with pytest.raises(errors.Gone):
        await rest.version(cfg.id, 1)
