"""The client's schema calls and dry runs, against the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from configsvc_client import api, errors

pytestmark = pytest.mark.usefixtures("token_env")

RATE = {"type": "object", "properties": {"rate": {"type": "number", "maximum": 10}}}


@pytest.fixture
async def rest(client: TestClient) -> AsyncIterator[api.ConfigClient]:  # type: ignore[type-arg]
    async with api.ConfigClient(str(client.make_url(""))) as configured:
        yield configured


async def test_schemas_and_the_writes_they_refuse(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing")
    cfg = await rest.create_configuration(app.id, "prod", {"rate": 50})
    with pytest.raises(errors.Conflict) as refused:
        await rest.put_schema(app.id, "*", RATE)
    assert refused.value.problem is not None
    assert refused.value.problem.configurations is not None
    assert refused.value.problem.configurations[0].id == cfg.id
    preview = await rest.put_schema(app.id, "*", RATE, dry_run=True)
    assert (preview.valid, preview.status) == (False, 409)
    stored = await rest.put_schema(app.id, "*", RATE, force=True)
    assert (stored.name, stored.schema_, stored.version) == ("*", RATE, 1)
    assert (await rest.get_schema(app.id, "*")).schema_ == RATE
    assert [s.name for s in (await rest.list_schemas(app.id)).items] == ["*"]
    assert (await rest.get_configuration(cfg.id)).schema_status == "invalid"
    with pytest.raises(errors.ValidationFailed) as invalid:
        await rest.replace_configuration(cfg.id, "prod", {"rate": 11})
    assert [(e.field, e.keyword) for e in invalid.value.errors] == [("config/rate", "maximum")]
    answer = await rest.replace_configuration(cfg.id, "prod", {"rate": 5}, dry_run=True)
    assert (answer.valid, answer.status, answer.would_be_version) == (True, 200, 2)
    assert answer.patch == [{"op": "replace", "path": "/config/rate", "value": 5}]
    fixed = await rest.replace_configuration(cfg.id, "prod", {"rate": 5})
    assert fixed.schema_status == "valid"
    assert (await rest.delete_schema(app.id, "*", dry_run=True)).status == 204
    await rest.delete_schema(app.id, "*")
    with pytest.raises(errors.NotFound):
        await rest.get_schema(app.id, "*")


async def test_every_write_takes_dry_run(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing")
    cfg = await rest.create_configuration(app.id, "prod", {"rate": 1})
    answers = [
        await rest.create_application("other", dry_run=True),
        await rest.replace_application(app.id, "renamed", dry_run=True),
        await rest.delete_application(app.id, dry_run=True),
        await rest.create_configuration(app.id, "staging", {}, dry_run=True),
        await rest.delete_configuration(cfg.id, dry_run=True),
        await rest.rollback(cfg.id, 1, dry_run=True),
        await rest.rollback_application(app.id, cfg.revision, dry_run=True),
    ]
    assert [a.status for a in answers] == [201, 200, 204, 201, 204, 200, 200]
    assert [a.name for a in (await rest.list_applications()).items] == ["billing"]
    assert (await rest.get_configuration(cfg.id)).version == 1
