"""The document's responses, as a client generated from it reads them: every refusal a Problem
with the headers it comes with, ETags and Location where a resource is answered, and a dry
run's answer that carries no ETag."""

from __future__ import annotations

from typing import Any

from configsvc.api import asyncapi, problems, responses, routes

PROBLEM = {problems.CONTENT_TYPE: {"schema": {"$ref": asyncapi.SCHEMAS + "Problem"}}}


def _headers(response: dict[str, Any]) -> set[str]:
    return set(response.get("headers", {}))


def _op(method: str, path: str) -> Any:
    return next(op for op in routes.OPERATIONS if (op.method, op.path) == (method, path))


def test_every_refusal_is_a_problem_with_the_headers_it_comes_with() -> None:
    for op in routes.OPERATIONS:
        for status, response in responses.of(op).items():
            if int(status) < 400:
                continue
            assert response["content"] == PROBLEM, (op.path, status)
            assert response["description"], (op.path, status)
            wanted = {"401": {"WWW-Authenticate"}, "503": {"Retry-After"}}.get(status, set())
            assert _headers(response) == wanted, (op.path, status)


def test_a_created_resource_has_its_etag_location_and_revision() -> None:
    created = responses.of(_op("POST", "/api/v1/applications"))
    assert _headers(created["201"]) == {"ETag", "Location", "Config-Revision"}
    assert all(responses.HEADERS[name]["required"] for name in ("ETag", "Location"))
    read = responses.of(_op("GET", "/api/v1/applications/{id}"))
    assert _headers(read["200"]) == {"ETag", "Config-Revision"}
    assert _headers(read["304"]) == {"ETag", "Config-Revision"}
    assert "content" not in read["304"]


def test_a_dry_run_answers_a_dry_run_or_the_usual_body_and_its_etag_is_optional() -> None:
    put = responses.of(_op("PUT", "/api/v1/configurations/{id}"))["200"]
    schema = put["content"]["application/json"]["schema"]
    assert [s["$ref"].rpartition("/")[2] for s in schema["anyOf"]] == ["Configuration", "DryRun"]
    assert put["headers"]["ETag"]["required"] is False
    assert responses.HEADERS["ETag"]["required"] is True, "the shared header is left as it was"
    create = responses.of(_op("POST", "/api/v1/applications"))
    assert create["200"]["content"]["application/json"]["schema"] == {
        "$ref": asyncapi.SCHEMAS + "DryRun"
    }
