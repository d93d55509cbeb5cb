"""The service's own errors. The data layer raises these; handlers never see asyncpg."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""


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


class BadRequest(ServiceError):
    """The body is not JSON, or not a JSON object."""


class Invalid(ServiceError):
    """One or more fields or query parameters are wrong: ``[(field, message), ...]``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems

    @classmethod
    def one(cls, field: str, message: str) -> Invalid:
        return cls([(field, message)])
