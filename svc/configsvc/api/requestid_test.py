"""Every response names its request: errors, 304s and aiohttp's own 405s too."""

from __future__ import annotations

from configsvc.api import requestid


def test_only_a_well_formed_id_is_kept() -> None:
    assert requestid.chosen("a-B_9.z") == "a-B_9.z"
    assert requestid.chosen("x" * 128) == "x" * 128
    for bad in (None, "", "x" * 129, "a b", "a/b", "é"):
        assert requestid.PATTERN.fullmatch(requestid.chosen(bad))
        assert requestid.chosen(bad) != bad


async def test_not_modified_and_method_not_allowed_carry_the_id(client) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    sent = {"X-Request-Id": "r1", "If-None-Match": '"1"'}
    cached = await client.get(f"/api/v1/applications/{app['id']}", headers=sent)
    assert (cached.status, cached.headers["X-Request-Id"]) == (304, "r1")
    wrong = await client.patch("/api/v1/applications", headers={"X-Request-Id": "r2"})
    assert (wrong.status, wrong.headers["X-Request-Id"]) == (405, "r2")
