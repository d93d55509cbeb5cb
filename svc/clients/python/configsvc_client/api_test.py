"""``ConfigClient`` as a whole against the real server (in-process, on a real socket and
database); each family of calls is tested beside its module (applications_test, ...)."""

from __future__ import annotations

import asyncio
import decimal

import pytest

from configsvc_client import (
    api,
    applications,
    cache,
    configurations,
    errors,
    history,
    replies,
    schemas,
    transport,
)

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


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


def test_error_classes_follow_the_status() -> None:
    assert type(errors.from_response(400, None)) is errors.BadRequest
    assert type(errors.from_response(418, {"no": "problem"}, "teapot")) is errors.ApiError
    server = errors.from_response(502, None, "Bad Gateway")
    assert type(server) is errors.ServerError
    assert str(server) == "502: Bad Gateway"
    assert str(errors.from_response(500, None)) == "500"


def test_the_client_is_every_family_of_calls_over_one_transport() -> None:
    families = [applications.Applications, configurations.Configurations, history.History,
                schemas.Schemas]  # fmt: skip
    assert [f for f in families if not issubclass(api.ConfigClient, f)] == []
    assert issubclass(api.ConfigClient, transport.Transport)
    # The names a user could import from here when this module held every call.
    assert (api.Tagged, api.API, api.REVISION_HEADER) == (
        replies.Tagged, transport.API, transport.REVISION_HEADER,
    )  # fmt: skip
