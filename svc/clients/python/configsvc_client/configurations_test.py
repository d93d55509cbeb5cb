"""The calls on configurations, against the real server (in-process, real socket and database)."""

from __future__ import annotations

import pytest

from configsvc_client import api, errors

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


async def test_configurations_round_trip(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing")
    made = await rest.create_configuration(app.id, "limits", {"rate": 5, "tiers": [1, 2]})
    assert made.config == {"rate": 5, "tiers": [1, 2]}
    assert made.revision >= 1
    assert await rest.get_configuration(made.id) == made
    replaced = await rest.replace_configuration(
        made.id, "limits", {"rate": 6}, "raised", application_id=app.id
    )
    assert (replaced.config, replaced.comments, replaced.version) == ({"rate": 6}, "raised", 2)
    assert await rest.find_configuration(app.id, "limits") == replaced
    assert await rest.find_configuration(app.id, "nothing") is None
    await rest.delete_configuration(made.id)
    with pytest.raises(errors.NotFound):
        await rest.get_configuration(made.id)


async def test_if_match_guards_against_lost_updates(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing")
    made = await rest.create_configuration(app.id, "limits", {"rate": 5})
    seen = await rest.get_configuration_tagged(made.id)
    assert seen.etag
    await rest.replace_configuration(made.id, "limits", {"rate": 6}, if_match=seen.etag)
    with pytest.raises(errors.PreconditionFailed) as caught:
        await rest.replace_configuration(made.id, "limits", {"rate": 7}, if_match=seen.etag)
    assert caught.value.status == 412
    with pytest.raises(errors.PreconditionFailed):
        await rest.delete_configuration(made.id, if_match=seen.etag)
    tagged_app = await rest.get_application_tagged(app.id)
    with pytest.raises(errors.PreconditionFailed):
        await rest.delete_application(app.id, if_match='"999"')
    await rest.replace_application(app.id, "billing", if_match=tagged_app.etag)
    assert (await rest.get_configuration(made.id)).config == {"rate": 6}
