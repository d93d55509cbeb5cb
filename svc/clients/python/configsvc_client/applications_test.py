"""The calls on applications, against the real server (in-process, real socket and database)."""

from __future__ import annotations

import pytest

from configsvc_client import api, errors

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


async def test_applications_round_trip(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing", "payments")
    assert (app.name, app.comments, app.version) == ("billing", "payments", 1)
    detail = await rest.get_application(app.id)
    assert detail.configuration_ids == []
    renamed = await rest.replace_application(app.id, "invoicing")
    assert (renamed.name, renamed.version) == ("invoicing", 2)
    assert (await rest.find_application("invoicing")) == renamed
    assert await rest.find_application("billing") is None
    await rest.delete_application(app.id)
    with pytest.raises(errors.NotFound):
        await rest.get_application(app.id)


async def test_pages_are_walked_to_the_end(rest: api.ConfigClient) -> None:
    apps = [await rest.create_application(f"app-{n}") for n in range(5)]
    page = await rest.list_applications(limit=2)
    assert len(page.items) == 2
    assert page.next_cursor is not None
    walked = [a.id async for a in rest.iter_applications(page_size=2)]
    assert walked == sorted(a.id for a in apps)
    assert [a.name async for a in rest.iter_applications(name="app-3")] == ["app-3"]
    owner = apps[0].id
    made = [await rest.create_configuration(owner, f"c{n}", {"n": n}) for n in range(3)]
    listed = [c.id async for c in rest.iter_configurations(owner, page_size=2)]
    assert listed == [c.id for c in made]
    assert (await rest.get_application(owner)).configuration_ids == listed
