"""The service's own errors. The data layer raises these; handlers never see asyncpg."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ServiceError(Exception):
    """Base of every error the service raises on purpose.

    ``audited`` is set once a refusal is in the audit trail, so that the guard, which audits
    the refused writes nothing else recorded, does not record it twice.
    """

    audited: bool = False


class MigrationError(ServiceError):
    """A migration file is misnamed, duplicated, or was edited after it was applied."""


class NotFound(ServiceError):
    """The resource named in the request does not exist."""


class Conflict(ServiceError):
    """A unique name is already taken in its scope."""

    def __init__(self, detail: str, *, field: str = "name") -> None:
        super().__init__(detail)
        self.field = field


class PreconditionFailed(ServiceError):
    """If-Match named a version that is no longer current."""


class Gone(ServiceError):
    """The version asked for existed but has been pruned from history."""


class BadRequest(ServiceError):
    """The body is not JSON, or not a JSON object."""


class Invalid(ServiceError):
    """One or more fields or query parameters are wrong: ``[(field, message), ...]``;
    ``extra`` are members the problem body adds (what a client needs to correct it)."""

    def __init__(
        self, problems: list[tuple[str, str]], *, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems
        self.extra = extra or {}

    @classmethod
    def one(cls, field: str, message: str, *, extra: dict[str, Any] | None = None) -> Invalid:
        return cls([(field, message)], extra=extra)


class SchemaInvalid(Invalid):
    """A configuration fails its JSON Schema, or a schema fails the meta-schema: one
    ``{"field", "keyword", "message"}`` per violation (``field``: a JSON pointer into the body)."""

    def __init__(self, violations: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__([(v["field"], v["message"]) for v in violations])
        self.violations = violations
        self.detail = detail or f"{len(violations)} violation(s) of the schema"


class SchemaConflict(ServiceError):
    """A schema change that current configurations would fail: ``[{"id", "name", "errors"}]``."""

    def __init__(self, configurations: list[dict[str, Any]]) -> None:
        names = ", ".join(repr(c["name"]) for c in configurations[:10])
        super().__init__(
            f"{len(configurations)} configuration(s) would fail this schema: {names}; "
            "fix them first, or store it anyway with ?force=true"
        )
        self.configurations = configurations


class UpgradeRequired(ServiceError):
    """A plain HTTP request reached the WebSocket feed."""


class Unauthenticated(ServiceError):
    """No usable credentials: missing, malformed, unknown, expired or revoked.

    ``presented`` says whether a token was sent at all (it decides the WWW-Authenticate error).
    """

    def __init__(self, detail: str, *, presented: bool) -> None:
        super().__init__(detail)
        self.presented = presented


class Forbidden(ServiceError):
    """The token may see the target but lacks the access the request needs."""


class Unavailable(ServiceError):
    """The database is unreachable, restarting, overloaded, or no connection freed up in time."""


class CommitUnknown(Unavailable):
    """The connection was lost while a write committed: it may or may not have taken effect.
    Its detail is for the client (it names no host): read back, or retry with If-Match."""


class DatabaseError(ServiceError):
    """The database refused a statement for a reason that is a bug, not an outage."""


@dataclass(frozen=True, slots=True)
class Kind:
    """How one error is shown: HTTP status, problem type slug and title, feed error code."""

    status: int
    slug: str
    title: str
    ws_code: str


INTERNAL = Kind(500, "internal", "Internal error", "internal")

# The one table the REST middleware (api/problems.py) and the feed (live/feed.py) both read.
KINDS: dict[type[ServiceError], Kind] = {
    BadRequest: Kind(400, "bad-request", "Malformed request body", "bad_request"),
    Invalid: Kind(422, "validation", "Validation failed", "bad_request"),
    SchemaInvalid: Kind(422, "schema", "Schema validation failed", "bad_request"),
    SchemaConflict: Kind(409, "schema-conflict", "Configurations would fail it", "conflict"),
    NotFound: Kind(404, "not-found", "Not found", "not_found"),
    Conflict: Kind(409, "conflict", "Name already taken", "conflict"),
    Gone: Kind(410, "gone", "Gone", "gone"),
    PreconditionFailed: Kind(412, "precondition-failed", "Precondition failed", "conflict"),
    UpgradeRequired: Kind(426, "upgrade-required", "Upgrade Required", "bad_request"),
    Unauthenticated: Kind(401, "unauthenticated", "Unauthenticated", "unauthenticated"),
    Forbidden: Kind(403, "forbidden", "Forbidden", "forbidden"),
    Unavailable: Kind(503, "unavailable", "Service unavailable", "unavailable"),
}


def kind(exc: ServiceError) -> Kind:
    """How ``exc`` is shown; anything not in :data:`KINDS` is an internal error."""
    if isinstance(exc, Unavailable):
        return KINDS[Unavailable]
    return KINDS.get(type(exc), INTERNAL)
