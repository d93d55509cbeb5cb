"""The id in the path: an unknown or malformed one names nothing, so both are 404."""

from __future__ import annotations

import pytest

from configsvc.api.conftest import problem


@pytest.mark.parametrize("rid", ["0" * 26, "not-an-id", "01JDQ2Z8B6M4R1V3XK7N9P0TQU"])
@pytest.mark.parametrize("kind", ["applications", "configurations"])
async def test_unknown_or_malformed_ids_are_404(client, kind, rid) -> None:
    await problem(await client.get(f"/api/v1/{kind}/{rid}"), 404)
    await problem(await client.delete(f"/api/v1/{kind}/{rid}"), 404)
    body = {"name": "n", **({"config": {}} if kind == "configurations" else {})}
    await problem(await client.put(f"/api/v1/{kind}/{rid}", json=body), 404)
