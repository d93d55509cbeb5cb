"""GET /metrics in one worker: refused unless allowed, and counting by route template.

The multi-worker aggregation is tested on real processes in api/fleet_test.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.live import feed


def sample(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def test_metrics_are_refused_without_access(client) -> None:
    resp = await client.get("/metrics")
    assert resp.status == 401
    assert resp.content_type == "application/problem+json"
    assert "token" in (await resp.json())["detail"]


@pytest.fixture
async def public(database_url: str, aiohttp_client: Any) -> Any:
    settings = settings_mod.Settings(
        database_url=database_url, port=0, db_pool_min=1, db_pool_max=5, metrics_public=True,
        _env_file=None,
    )  # fmt: skip
    test_client = await aiohttp_client(app_mod.create_app(settings))
    while not test_client.app[feed.LISTENER].connected:
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
