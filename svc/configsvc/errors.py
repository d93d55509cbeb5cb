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


class Invalid(ServiceError):
    """A value is well-formed but refers to something that does not exist, and the like."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
