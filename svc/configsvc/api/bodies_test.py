"""Query parameters read strictly: regressions found by fuzz_test's query-value test."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from configsvc_contract import models

from configsvc import app as app_mod
from configsvc.api import bodies


async def problem(resp, status: int, field: str) -> None:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = models.Problem.model_validate(await resp.json())
    assert [e.field for e in body.errors or []] == [field]


@pytest.mark.parametrize(
    "limit",
    [
        "\u00b2",  # "²" passes str.isdigit(), but int() refuses it: was a 500
        "\u0661",  # ARABIC-INDIC ONE: a digit to int(), not to the document
        "\uff15",  # FULLWIDTH FIVE
        "9" * 4301,  # past int()'s 4300-digit limit: was a 500
        "1" * 10,
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/applications", f"/api/v1/applications/{'0' * 26}/configurations"]
)
async def test_limit_is_ascii_digits_only(client, path, limit) -> None:
    await problem(await client.get(path, params={"limit": limit}), 422, "limit")


async def test_limit_with_leading_zeros_is_still_a_number(client) -> None:
    resp = await client.get("/api/v1/applications", params={"limit": "007"})
    assert resp.status == 200


# --- issue 9: slow bodies, deep nesting, numbers, names, conditional headers ---------------


def nested(depth: int) -> str:
    """A JSON value with ``depth`` levels of arrays and objects."""
    return '{"a":' * (depth - 1) + "[]" + "}" * (depth - 1)


@pytest.fixture
async def app_id(client) -> str:
    resp = await client.post("/api/v1/applications", json={"name": "nest"})
    return str((await resp.json())["id"])


async def post_config(client, app_id: str, config_text: str, name: str = "c"):
    raw = f'{{"application_id": "{app_id}", "name": "{name}", "config": {config_text}}}'
    return await client.post(
        "/api/v1/configurations", data=raw, headers={"Content-Type": "application/json"}
    )


@pytest.mark.parametrize("depth", [models.MAX_JSON_DEPTH + 1, 488, 975, 100_000])
async def test_a_config_nested_past_the_limit_is_422_naming_it(client, app_id, depth) -> None:
    resp = await post_config(client, app_id, nested(depth))
    await problem(resp, 422, "config")
    listed = await client.get(f"/api/v1/applications/{app_id}/configurations")
    assert (await listed.json())["items"] == [], "nothing was stored"


async def test_a_config_at_the_limit_is_stored_and_read_back(client, app_id) -> None:
    resp = await post_config(client, app_id, nested(models.MAX_JSON_DEPTH))
    assert resp.status == 201, await resp.text()
    assert _depth((await resp.json())["config"]) == models.MAX_JSON_DEPTH


async def test_brackets_inside_strings_do_not_count_as_nesting(client, app_id) -> None:
    resp = await post_config(client, app_id, '{"s": "' + "[{" * 500 + '", "t": "\\""}')
    assert resp.status == 201, await resp.text()


async def test_a_body_nested_too_deep_outside_any_field_is_400(client) -> None:
    resp = await client.post(
        "/api/v1/applications", data="[" * 1000, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert "levels deep" in (await resp.json())["detail"]


@pytest.mark.parametrize("number", ["1e5000", "-2.5e4001", "1e-20000"])
async def test_numbers_numeric_cannot_hold_or_we_cannot_show_are_422(client, app_id, number):
    resp = await post_config(client, app_id, f'{{"big": [1, {number}]}}')
    await problem(resp, 422, "config.big.1")


@pytest.mark.parametrize(
    "name",
    [" Café", "Café ", "Café\u200b", "\u200b", "red\x1b[31m", "tab\there", "\ufeffbom", "\xa0"],
)
async def test_names_with_invisible_or_padding_characters_are_422(client, app_id, name) -> None:
    resp = await client.post("/api/v1/applications", json={"name": name})
    await problem(resp, 422, "name")
    body = {"application_id": app_id, "name": name, "config": {}}
    await problem(await client.post("/api/v1/configurations", json=body), 422, "name")


async def test_a_name_in_nfc_and_nfd_is_one_name_stored_as_nfc(client) -> None:
    resp = await client.post("/api/v1/applications", json={"name": "Cafe\u0301"})  # NFD
    assert resp.status == 201
    assert (await resp.json())["name"] == "Caf\u00e9"
    again = await client.post("/api/v1/applications", json={"name": "Caf\u00e9"})
    assert again.status == 409
    other_case = await client.post("/api/v1/applications", json={"name": "caf\u00e9"})
    assert other_case.status == 201, "names stay case-sensitive"
    found = await client.get("/api/v1/applications", params={"name": "Cafe\u0301"})
    assert [a["name"] for a in (await found.json())["items"]] == ["Caf\u00e9"]


async def test_the_name_filter_refuses_what_no_name_can_be(client) -> None:
    resp = await client.get("/api/v1/applications", params={"name": "x\u200b"})
    await problem(resp, 422, "name")


async def test_comments_may_hold_line_breaks_and_tabs_but_no_other_controls(client) -> None:
    ok = await client.post("/api/v1/applications", json={"name": "a", "comments": "1\n\t2\r\n"})
    assert ok.status == 201
    assert (await ok.json())["comments"] == "1\n\t2\r\n"
    for bad in ("\x1b[2J", "zero\u200bwidth", "\x7f"):
        resp = await client.post("/api/v1/applications", json={"name": "b", "comments": bad})
        await problem(resp, 422, "comments")


@pytest.fixture
async def resource(client) -> str:
    """An application at version 2: its URL."""
    resp = await client.post("/api/v1/applications", json={"name": "tagged"})
    url = f"/api/v1/applications/{(await resp.json())['id']}"
    assert (await client.put(url, json={"name": "tagged"})).status == 200
    return url


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ('"1", "2"', 200),  # any member of a list
        ('"5",   "2" ,"7"', 200),
        ("*", 200),  # any current version
        ('"02"', 412),  # octets, not numbers
        ('W/"2"', 412),  # a weak tag never matches If-Match
        ('W/"1", W/"2"', 412),
        ('"1"', 412),
        ('"2" garbage', 412),  # not an entity-tag list: matches nothing
    ],
)
async def test_if_match_follows_rfc_9110(client, resource, header, status) -> None:
    resp = await client.put(resource, json={"name": "tagged"}, headers={"If-Match": header})
    assert resp.status == status, await resp.text()
    version = (await (await client.get(resource)).json())["version"]
    assert version == (3 if status == 200 else 2), "a failed precondition changes nothing"


async def test_if_match_star_on_a_missing_resource_is_404(client) -> None:
    url = f"/api/v1/applications/{'0' * 26}"
    resp = await client.put(url, json={"name": "x"}, headers={"If-Match": "*"})
    assert resp.status == 404
    assert (await client.delete(url, headers={"If-Match": "*"})).status == 404


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ('"1", "2"', 304),
        ('W/"2"', 304),  # weak comparison
        ("*", 304),
        ('"02"', 200),
        ('"1", W/"3"', 200),
        ("garbage", 200),
    ],
)
async def test_if_none_match_follows_rfc_9110(client, resource, header, status) -> None:
    resp = await client.get(resource, headers={"If-None-Match": header})
    assert resp.status == status
    if status == 304:
        assert resp.headers["ETag"] == '"2"'


async def test_a_body_that_stalls_half_way_is_answered_408_within_the_deadline(
    aiohttp_client, settings, admin_headers, admin_token
) -> None:
    client = await aiohttp_client(
        app_mod.create_app(settings.model_copy(update={"body_read_timeout_s": 1.0})),
        headers=admin_headers,
    )
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /api/v1/applications HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n"
        b"Authorization: Bearer " + admin_token.encode() + b"\r\n"
        b'Content-Type: application/json\r\n\r\n{"name": "half'
    )
    await writer.drain()
    started = time.monotonic()
    async with asyncio.timeout(10):  # generous: the deadline itself is 1 s
        answer = await reader.read()  # up to the server closing the connection
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"application/problem+json" in answer
    assert time.monotonic() - started < 10
    listed = await client.get("/api/v1/applications")
    assert (await listed.json())["items"] == [], "nothing was written"


def _depth(value: object) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


async def test_the_documented_revision_header_pattern_is_what_the_server_takes(client) -> None:
    """The document spells Config-Min-Revision as text (a header is), with this pattern: each
    value it allows is answered, each it refuses is a 422 naming the header."""
    pattern = re.compile(bodies.REVISION_PATTERN)
    top = str(bodies.REVISION_MAX)
    values = ["0", "007", top, str(2**63), "0" + top, "9" * 19, "1" * 19, "", "-1", "1.0"]
    for value in values:
        resp = await client.get("/api/v1/applications", headers={"Config-Min-Revision": value})
        if pattern.fullmatch(value):
            assert resp.status == 200, value
        else:
            await problem(resp, 422, "Config-Min-Revision")
