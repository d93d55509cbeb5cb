"""What the client raises: one base class, and one subclass per HTTP error the API documents.

Every HTTP error carries the server's problem details (RFC 9457) when the body had them, so a
caller can show ``detail`` and the per-field ``errors`` without parsing anything.
"""

from __future__ import annotations

from typing import Any

import pydantic
from configsvc_contract import models


class ClientError(Exception):
    """Base of everything ``configsvc_client`` raises on purpose."""


class Unavailable(ClientError):
    """The service could not be reached (connection refused or reset, or a timeout)."""


class WatchClosed(ClientError):
    """The live view has ended: its watch was closed, or its application was deleted."""


class EventsOverflow(ClientError):
    """An event iterator fell too far behind; re-read the mapping and iterate again."""


class ApiError(ClientError):
    """The service answered with an HTTP error status."""

    status: int = 0

    def __init__(self, status: int, problem: models.Problem | None, text: str = "") -> None:
        self.status = status
        self.problem = problem
        self.detail = problem.detail if problem else text
        super().__init__(f"{status}: {self.detail}" if self.detail else str(status))

    @property
    def errors(self) -> list[models.FieldError]:
        """The per-field errors of a validation problem; empty for every other error."""
        return list(self.problem.errors or []) if self.problem else []


class BadRequest(ApiError):
    """400: the body is not JSON, or not a JSON object."""


class NotFound(ApiError):
    """404: the id in the path is unknown or malformed."""


class MethodNotAllowed(ApiError):
    """405."""


class Conflict(ApiError):
    """409: the name is already taken in its scope."""


class Gone(ApiError):
    """410: that version existed but history has pruned it."""


class PreconditionFailed(ApiError):
    """412: the ``If-Match`` ETag is no longer current; someone else changed the resource."""


class PayloadTooLarge(ApiError):
    """413."""


class UnsupportedMediaType(ApiError):
    """415."""


class ValidationFailed(ApiError):
    """422: a field or query parameter is invalid; see ``errors``."""


class Unauthorized(ApiError):
    """401: no token, or one the service does not accept (malformed, unknown, expired, revoked).

    A live view ends with it instead of reconnecting: another try would be refused too.
    """


class Revoked(Unauthorized):
    """The service closed the live feed with 4401: the token was revoked or expired."""


class Forbidden(ApiError):
    """403: the token may see the target but lacks the access the call needs."""


class ServerError(ApiError):
    """5xx: the service failed; idempotent calls are retried before this is raised."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    410: Gone,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
}


def from_response(status: int, body: Any, text: str = "") -> ApiError:
    """The exception for an error response; ``body`` is its decoded JSON, or None."""
    try:
        problem = models.Problem.model_validate(body) if body is not None else None
    except pydantic.ValidationError:
        # Not every error comes from our handlers (a proxy's 502 page, aiohttp's own 405).
        problem = None
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(status, problem, text)
