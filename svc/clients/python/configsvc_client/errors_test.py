"""Every error response becomes the exception class its status documents, problem attached."""

from __future__ import annotations

import pytest

from configsvc_client import errors

PROBLEM = {
    "type": "https://configsvc.example/problems/invalid",
    "title": "Unprocessable Content",
    "status": 422,
    "detail": "the body has invalid fields",
    "errors": [{"field": "name", "message": "must not be empty"}],
}


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, errors.BadRequest), (401, errors.Unauthorized), (403, errors.Forbidden),
     (404, errors.NotFound), (405, errors.MethodNotAllowed), (409, errors.Conflict),
     (410, errors.Gone), (412, errors.PreconditionFailed), (413, errors.PayloadTooLarge),
     (415, errors.UnsupportedMediaType), (422, errors.ValidationFailed),
     (500, errors.ServerError), (503, errors.ServerError), (418, errors.ApiError)],
)  # fmt: skip
def test_each_status_maps_to_its_class(status: int, cls: type[errors.ApiError]) -> None:
    exc = errors.from_response(status, None, "plain text")
    assert type(exc) is cls
    assert isinstance(exc, errors.ClientError)
    assert (exc.status, exc.detail, str(exc)) == (status, "plain text", f"{status}: plain text")


def test_a_problem_body_gives_its_detail_and_field_errors() -> None:
    exc = errors.from_response(422, PROBLEM)
    assert isinstance(exc, errors.ValidationFailed)
    assert exc.detail == "the body has invalid fields"
    assert [(e.field, e.message) for e in exc.errors] == [("name", "must not be empty")]
    assert str(exc) == "422: the body has invalid fields"


def test_a_body_that_is_not_a_problem_is_kept_as_text() -> None:
    exc = errors.from_response(502, {"unexpected": ["shape"]}, "<html>bad gateway</html>")
    assert isinstance(exc, errors.ServerError)
    assert exc.problem is None
    assert exc.errors == []
    assert exc.detail == "<html>bad gateway</html>"
    assert str(errors.from_response(404, None)) == "404"


def test_a_revoked_feed_is_an_unauthorized_error() -> None:
    # Callers that stop on 401 stop on a revoked live view too.
    assert issubclass(errors.Revoked, errors.Unauthorized)


async def test_the_servers_own_problems_map_to_their_classes(client) -> None:
    missing = await client.get("/api/v1/applications/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    invalid = await client.post("/api/v1/applications", json={"name": ""})
    not_found = errors.from_response(missing.status, await missing.json())
    failed = errors.from_response(invalid.status, await invalid.json())
    assert isinstance(not_found, errors.NotFound)
    assert not_found.problem is not None
    assert isinstance(failed, errors.ValidationFailed)
    assert "name" in {e.field for e in failed.errors}
