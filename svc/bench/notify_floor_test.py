import os

import pytest

from bench import notify_floor

URL = os.environ.get("TEST_DATABASE_URL")


@pytest.mark.skipif(URL is None, reason="needs TEST_DATABASE_URL (make bench measures it anyway)")
async def test_floor_measures_every_notification() -> None:
    assert URL is not None
    latencies = await notify_floor.measure(URL, 20, 0.001)
    assert len(latencies) == 20
    assert all(0 < ms < 1000 for ms in latencies)
