"""Query parameters read strictly: regressions found by fuzz_test's query-value test."""

from __future__ import annotations

import pytest
from configsvc_client import models


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
