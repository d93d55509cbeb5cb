"""GET /metrics over HTTP: refused unless allowed, every request counted by its route template
(never its raw path), and the pool's gauges sampled while the worker serves."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.live import follow
from configsvc.ops.metrics_test import sample


async def test_metrics_need_an_admin_token_or_a_metrics_grant(client) -> None:
    anonymous = await client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status == 401
    assert anonymous.content_type == "application/problem+json"
    body = {"name": "reader", "grants": [{"application_id": "*", "access": "read"}]}
    reader = await (await client.post("/api/v1/tokens", json=body)).json()
    refused = await client.get("/metrics", headers={"Authorization": f"Bearer {reader['token']}"})
    assert refused.status == 403
    assert "metrics" in (await refused.json())["detail"]
    body = {"name": "scraper", "grants": [{"application_id": "*", "access": "metrics"}]}
    scraper = await (await client.post("/api/v1/tokens", json=body)).json()
    auth = {"Authorization": f"Bearer {scraper['token']}"}
    scraped = await client.get("/metrics", headers=auth)
    assert scraped.status == 200
    assert "configsvc_http_requests_total" in await scraped.text()
    await client.post("/api/v1/applications", json={"name": "billing"})
    listed = await (await client.get("/api/v1/applications", headers=auth)).json()
    assert listed["items"] == [], "a metrics grant reads metrics, not configuration"
    assert (await client.get("/metrics")).status == 200, "an admin token may"


@pytest.fixture
async def public(database_url: str, aiohttp_client: Any, admin_token: str) -> Any:
    settings = settings_mod.Settings(
        database_url=database_url, port=0, db_pool_min=1, db_pool_max=5, metrics_public=True,
        _env_file=None, bootstrap_admin_token=admin_token,
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {admin_token}"}
    test_client = await aiohttp_client(app_mod.create_app(settings), headers=auth)
    while not test_client.app[follow.LISTENER].connected:
        await test_client.get("/healthz")
    return test_client


async def test_requests_are_counted_by_route_template_method_and_status(public) -> None:
    route = "/api/v1/applications/{id}"
    before = await (await public.get("/metrics")).text()
    for missing in ("01JDQ2Z8B6M4R1V3XK7N9P0TQS", "01JDQ2Z8B6M4R1V3XK7N9P0TQT"):
        assert (await public.get(f"/api/v1/applications/{missing}")).status == 404
    assert (await public.get("/no/such/route")).status == 404
    after = await (await public.get("/metrics")).text()

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("configsvc_http_requests_total", route=route, method="GET", status="404") == 2
    assert moved("configsvc_http_request_duration_seconds_count", route=route) == 2
    assert moved("configsvc_http_requests_total", route="unmatched", status="404") == 1
    assert "01JDQ2Z8B6M4R1V3XK7N9P0TQS" not in after
    assert moved("configsvc_auth_refusals_total") == 0
    assert (await public.get("/api/v1/applications", headers={"Authorization": ""})).status == 401
    again = await (await public.get("/metrics", headers={"Authorization": ""})).text()
    assert sample(again, "configsvc_auth_refusals_total", reason="unauthenticated") == (
        sample(after, "configsvc_auth_refusals_total", reason="unauthenticated") + 1
    ), "METRICS_PUBLIC: /metrics itself needs no token"


async def test_a_304_is_counted_as_a_304(public) -> None:
    made = await (await public.post("/api/v1/applications", json={"name": "billing"})).json()
    route = "/api/v1/applications/{id}"
    before = await (await public.get("/metrics")).text()
    resp = await public.get(f"/api/v1/applications/{made['id']}", headers={"If-None-Match": '"1"'})
    assert resp.status == 304
    after = await (await public.get("/metrics")).text()
    counted = [sample(text, "configsvc_http_requests_total", route=route, status="304")
               for text in (before, after)]  # fmt: skip
    assert counted[1] == counted[0] + 1


async def test_the_pool_gauges_show_the_connections_open_and_lent(public) -> None:
    async with asyncio.timeout(10):
        while not sample(text := await (await public.get("/metrics")).text(),
                         "configsvc_db_pool_size"):  # fmt: skip
            await asyncio.sleep(0.1)
    assert 1 <= sample(text, "configsvc_db_pool_size") <= 5
    assert 0 <= sample(text, "configsvc_db_pool_in_use") <= sample(text, "configsvc_db_pool_size")
