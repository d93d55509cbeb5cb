"""What every call goes through: retries, errors, the session, read-your-writes; against the
real server and against a real gateway with no healthy backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from configsvc.devtools import pgcluster
from configsvc_client import api, errors, transport
from configsvc_client.conftest import FAST

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


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


def test_what_a_call_puts_in_its_path_query_and_headers() -> None:
    assert transport.seg("a/../b c") == "a%2F..%2Fb%20c"
    assert transport.params(limit=5, cursor=None, name="x") == {"limit": "5", "name": "x"}
    assert (transport.dry(True), transport.dry(False)) == ({"dry_run": "true"}, None)
    assert (transport.if_match('"3"'), transport.if_match(None)) == ({"If-Match": '"3"'}, None)
    assert (transport.reason("why"), transport.reason(None)) == ({"X-Change-Reason": "why"}, {})
