"""The OpenAPI document's responses: what each status of an operation means, the headers they
carry (``components.headers``), and the problem details every refusal answers with.
"""

from __future__ import annotations

import http
from typing import Any

from configsvc.api import asyncapi, bodies, operation, problems, reads

JSON = "application/json"

# Why each error status happens; the Problem body says which case it was.
_WHEN: dict[int, str] = {
    304: "If-None-Match names the current version: no body, the ETag again.",
    400: "The body is not valid JSON, or not a JSON object.",
    401: "No token, or a malformed, unknown, expired or revoked one; see `WWW-Authenticate`.",
    403: "The token may see the target but lacks the access needed; `detail` names it.",
    404: "The id in the path is unknown or malformed.",
    409: "The name is already taken in its scope (`detail` names it); or, for a schema change, "
    "current configurations would fail it (`urn:configsvc:problem:schema-conflict`, listed "
    "in `configurations`).",
    410: "That version existed but history has pruned it.",
    412: "If-Match names a version that is no longer current.",
    413: "The body is over the size limit.",
    415: "The body is not `application/json`.",
    422: "A field or query parameter is invalid: one entry in `errors` per bad field. A JSON "
    "Schema violation is `urn:configsvc:problem:schema`, with one entry per violation: "
    '`{"field": "config/limits/rate", "keyword": "maximum", "message": ...}` (`field` is a '
    "JSON pointer into the body).",
    503: "The database is unavailable; retry after `Retry-After` seconds.",
}

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The resource's version as a strong entity tag, for If-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"\d+"$'},
    },
    "Location": {
        "description": "Path of the created resource.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    reads.REVISION_HEADER: {
        "description": "The global revision the response reflects (a write: the one it committed).",
        "required": True,
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "WWW-Authenticate": {
        "description": 'Bearer realm="configsvc", with error="invalid_token" if one was sent.',
        "required": True,
        "schema": {"type": "string"},
    },
}


def ref(kind: str, name: str) -> dict[str, str]:
    """A reference to ``components.<kind>.<name>``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def problem(status: int) -> dict[str, Any]:
    """The response of a refusal with ``status``: a Problem, and the headers it comes with."""
    response: dict[str, Any] = {
        "description": _WHEN.get(status, http.HTTPStatus(status).phrase),
        "content": {problems.CONTENT_TYPE: {"schema": {"$ref": asyncapi.SCHEMAS + "Problem"}}},
    }
    if status == 503:
        response["headers"] = {"Retry-After": ref("headers", "Retry-After")}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": ref("headers", "WWW-Authenticate")}
    return response


def _refusals(op: operation.Operation) -> tuple[int, ...]:
    """401 for every operation; 403 where a valid token may still lack the access needed
    (a read it may not do is a 404, as if the target did not exist)."""
    return (401,) if op.needs in {"read", "token"} else (401, 403)


def _dry_run(response: dict[str, Any] | None) -> dict[str, Any]:
    """The 200 of an operation that answers dry runs: a DryRun, or (for a real write that
    answers 200) its usual body."""
    dry = {"$ref": asyncapi.SCHEMAS + "DryRun"}
    if response is None:
        return {"description": "OK: the dry run's answer", "content": {JSON: {"schema": dry}}}
    content = response["content"][JSON]
    content["schema"] = {"anyOf": [content["schema"], dry]}
    # A dry run's answer has no ETag: the header is there only when the write was real.
    headers = response.get("headers", {})
    response["headers"] = {name: {**HEADERS[name], "required": False} for name in headers}
    return response


# The tags of the operations whose writes commit a revision (tokens and sessions do not).
REVISIONED_TAGS = frozenset({"applications", "configurations", "history", "schemas"})


def _revision(op: operation.Operation) -> bool:
    """Whether its answers carry Config-Revision: the reads that take a minimum revision, and
    the writes that commit a revision (of applications, configurations and schemas)."""
    return bodies.MIN_REVISION_HEADER in op.headers or (
        op.method != "GET" and op.tag in REVISIONED_TAGS
    )


def _success(op: operation.Operation, status: int | None = None) -> dict[str, Any]:
    status = status or op.status
    response: dict[str, Any] = {"description": http.HTTPStatus(status).phrase}
    headers = {}
    if _revision(op):
        headers[reads.REVISION_HEADER] = ref("headers", reads.REVISION_HEADER)
    if op.response is None:
        if headers:
            response["headers"] = headers
        return response
    response["content"] = {JSON: {"schema": {"$ref": asyncapi.SCHEMAS + op.response.__name__}}}
    # A resource carries a version, and every response with one carries it as the ETag.
    if "version" in op.response.model_fields:
        headers["ETag"] = ref("headers", "ETag")
    if status == 201:
        headers["Location"] = ref("headers", "Location")
    if headers:
        response["headers"] = headers
    return response


def of(op: operation.Operation) -> dict[str, Any]:
    """Every response ``op`` may answer with, by status."""
    responses = {str(op.status): _success(op)}
    if op.created:
        responses["201"] = _success(op, 201)
    if op.dry_run:
        responses["200"] = _dry_run(responses.get("200"))
    for status in (*op.errors, *_refusals(op), 503):
        if status == 304:
            responses["304"] = {
                "description": _WHEN[304],
                "headers": {"ETag": ref("headers", "ETag")},
            }
            if _revision(op):
                revision = ref("headers", reads.REVISION_HEADER)
                responses["304"]["headers"][reads.REVISION_HEADER] = revision
        else:
            responses[str(status)] = problem(status)
    return responses
