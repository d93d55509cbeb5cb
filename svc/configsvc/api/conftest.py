"""Fixtures of the REST API's tests: an application, a configuration, made through the API;
requests that must succeed (``make``) or be refused (``refusal``); and what a refusal must look
like (a problem+json body of the schema the document gives)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from configsvc_contract import models

API = "/api/v1"
_names = itertools.count()


async def make(client, method: str, path: str, **kwargs: Any) -> Any:
    """``method`` ``API + path``, which must succeed; its JSON body (None for a 204)."""
    resp = await client.request(method, f"{API}{path}", **kwargs)
    assert resp.status < 300, (resp.status, await resp.text())
    return await resp.json() if resp.status != 204 else None


async def refusal(client, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
    """``method`` ``API + path``, which must be refused with ``status``; its problem body."""
    return await problem(await client.request(method, f"{API}{path}", **kwargs), status)


async def problem(resp, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    models.Problem.model_validate(body)
    assert body["status"] == status
    return body


def fields(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


@pytest.fixture
def make_app(client):
    async def make(name: str | None = None, comments: str = "") -> dict[str, Any]:
        name = name or f"app-{next(_names)}"
        resp = await client.post("/api/v1/applications", json={"name": name, "comments": comments})
        assert resp.status == 201, await resp.text()
        return await resp.json()

    return make


@pytest.fixture
def make_config(client, make_app):
    async def make(app_id: str | None = None, name: str | None = None, config=None):
        app_id = app_id or (await make_app())["id"]
        body = {"application_id": app_id, "name": name or f"cfg-{next(_names)}",
                "config": config if config is not None else {"x": 1}}  # fmt: skip
        resp = await client.post("/api/v1/configurations", json=body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    return make
