"""The REST client against the real server (in-process, on a real socket and database)."""

from __future__ import annotations

import asyncio
import decimal
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from configsvc.devtools import pgcluster
from configsvc_client import api, backoff, cache, errors

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")

FAST = backoff.Backoff(base=0.001, cap=0.002)


@pytest.fixture
async def rest(client: TestClient) -> AsyncIterator[api.ConfigClient]:  # type: ignore[type-arg]
    async with api.ConfigClient(str(client.make_url("")), backoff=FAST) as rest:
        yield rest


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


async def test_http_errors_carry_the_problem_details(rest: api.ConfigClient) -> None:
    app = await rest.create_application("billing")
    with pytest.raises(errors.Conflict) as conflict:
        await rest.create_application("billing")
    assert conflict.value.status == 409
    assert "billing" in conflict.value.detail
    assert conflict.value.problem is not None
    with pytest.raises(errors.NotFound) as missing:
        await rest.get_configuration("01JDQ2Z8B6M4R1V3XK7N9P0TQS")
    assert missing.value.status == 404
    assert missing.value.errors == []
    with pytest.raises(errors.ValidationFailed) as invalid:
        await rest.create_configuration(app.id, "   ", {})
    assert invalid.value.status == 422
    assert [e.field for e in invalid.value.errors] == ["name"]
    with pytest.raises(errors.ValidationFailed):
        await rest.list_applications(limit=0)
    with pytest.raises(errors.NotFound):
        await rest.get_application("../../healthz")  # quoted: stays one path segment


def test_error_classes_follow_the_status() -> None:
    assert type(errors.from_response(400, None)) is errors.BadRequest
    assert type(errors.from_response(418, {"no": "problem"}, "teapot")) is errors.ApiError
    server = errors.from_response(502, None, "Bad Gateway")
    assert type(server) is errors.ServerError
    assert str(server) == "502: Bad Gateway"
    assert str(errors.from_response(500, None)) == "500"


class Gateway:
    """A real HTTP server in front of nothing, like a load balancer with no healthy backend."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.hits = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if request.path == "/garbled":
            return web.Response(status=self.status, text="{", content_type="application/json")
        return web.Response(status=self.status, text="no healthy upstream")


@pytest.fixture
async def gateway() -> AsyncIterator[Callable[[int], asyncio.Future[tuple[Gateway, str]]]]:
    servers: list[TestServer] = []

    async def start(status: int) -> tuple[Gateway, str]:
        gw = Gateway(status)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", gw.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return gw, str(server.make_url(""))

    yield start  # type: ignore[misc]
    for server in servers:
        await server.close()


async def test_idempotent_calls_are_retried_and_post_is_not(gateway) -> None:  # type: ignore[no-untyped-def]
    gw, url = await gateway(503)
    async with api.ConfigClient(url, retries=3, backoff=FAST) as rest:
        with pytest.raises(errors.ServerError) as caught:
            await rest.get_application("01JDQ2Z8B6M4R1V3XK7N9P0TQS")
        assert caught.value.status == 503
        assert caught.value.detail == "no healthy upstream"
        assert gw.hits == 4
        with pytest.raises(errors.ServerError):
            await rest.create_application("billing")
        assert gw.hits == 5
        with pytest.raises(errors.ServerError):
            await rest.delete_configuration("01JDQ2Z8B6M4R1V3XK7N9P0TQS")
        assert gw.hits == 9
        with pytest.raises(errors.ServerError) as garbled:
            await rest._call("POST", "/garbled")
        assert garbled.value.problem is None


async def test_an_unreachable_service_is_unavailable_after_the_retries() -> None:
    url = f"http://127.0.0.1:{pgcluster.free_port()}"  # nothing listens there
    async with api.ConfigClient(url, retries=2, backoff=FAST, timeout=5) as rest:
        with pytest.raises(errors.Unavailable):
            await rest.list_applications()
        with pytest.raises(errors.Unavailable):
            await rest.create_application("billing")


async def test_a_session_passed_in_is_left_open(client: TestClient) -> None:  # type: ignore[type-arg]
    async with aiohttp.ClientSession() as session:
        async with api.ConfigClient(str(client.make_url("")), session=session) as rest:
            await rest.list_applications()
        assert not session.closed
    assert rest.ws_url().startswith("ws://")
    assert rest.ws_url().endswith("/api/v1/ws")


async def test_every_route_the_client_calls_is_in_the_served_document(
    rest: api.ConfigClient,
) -> None:
    document = await rest.openapi()
    routes = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert {
        ("POST", "/api/v1/applications"),
        ("GET", "/api/v1/applications"),
        ("GET", "/api/v1/applications/{id}"),
        ("PUT", "/api/v1/applications/{id}"),
        ("DELETE", "/api/v1/applications/{id}"),
        ("GET", "/api/v1/applications/{id}/configurations"),
        ("POST", "/api/v1/configurations"),
        ("GET", "/api/v1/configurations/{id}"),
        ("PUT", "/api/v1/configurations/{id}"),
        ("DELETE", "/api/v1/configurations/{id}"),
    } <= routes


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


async def test_numbers_stay_exact_through_the_client_its_view_and_its_cache(
    rest: api.ConfigClient, tmp_path
) -> None:
    exact = decimal.Decimal("0.1000000000000000055511151231257827021181583404541015625")
    big = decimal.Decimal("12345678901234567890.5")
    app = await rest.create_application("exact")
    made = await rest.create_configuration(app.id, "c", {"x": exact, "y": [big, 3]})
    assert made.config == {"x": exact, "y": [big, 3]}
    assert (await rest.get_configuration(made.id)).config["x"] == exact
    cache_file = tmp_path / "exact.json"
    async with rest.watch(app.id, cache_path=str(cache_file)) as view:
        assert view["c"] == {"x": exact, "y": [big, 3]}
    async with asyncio.timeout(10):
        while (state := cache.load(cache_file, app.id)) is None:
            await asyncio.sleep(0.05)
    assert state.configurations[0].config == {"x": exact, "y": [big, 3]}
    assert str(exact) in cache_file.read_text(), "written as a number, digit for digit"


async def test_reads_ask_for_the_newest_revision_written_or_seen(client: TestClient) -> None:  # type: ignore[type-arg]
    sent: list[str | None] = []

    async def on_start(session, context, params: aiohttp.TraceRequestStartParams) -> None:  # type: ignore[no-untyped-def]
        sent.append(params.headers.get(api.MIN_REVISION_HEADER))

    tracing = aiohttp.TraceConfig()
    tracing.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[tracing]) as session:
        rest = api.ConfigClient(str(client.make_url("")), session=session)
        assert rest.revision == 0
        app = await rest.create_application("billing")
        assert rest.revision == app.revision
        await rest.get_application(app.id)
        assert sent == [None, str(app.revision)], "writes never wait; reads ask"
        made = await rest.create_configuration(app.id, "limits", {"rate": 1})
        async with rest.watch("billing") as view:
            assert view.revision == made.revision
        assert rest.revision == made.revision

        rest.revision = 10**9  # remembered from before the service's history was rewound
        assert (await rest.get_configuration(made.id)).name == "limits"
        assert rest.revision == made.revision, "it follows the service back"

        blind = api.ConfigClient(str(client.make_url("")), session=session, read_your_writes=False)
        await blind.create_application("other")
        sent.clear()
        await blind.get_application(app.id)
        assert sent == [None]
