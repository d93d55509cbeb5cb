"""Fixtures of the client's tests: a ConfigClient on the test's real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from configsvc_client import api, backoff

# Retries without waiting: the tests cause the failures they retry.
FAST = backoff.Backoff(base=0.001, cap=0.002)


@pytest.fixture
async def rest(client: TestClient) -> AsyncIterator[api.ConfigClient]:  # type: ignore[type-arg]
    async with api.ConfigClient(str(client.make_url("")), backoff=FAST) as rest:
        yield rest
