"""Problem details (RFC 9457): the body of every error the service answers."""

from __future__ import annotations

from pydantic import BaseModel, Field

from configsvc_contract.models.configurations import SchemaViolation


class FieldError(BaseModel):
    field: str = Field(
        description="Dotted path of the offending field or query parameter; for a schema "
        "violation, a JSON pointer into the body."
    )
    message: str
    keyword: str | None = Field(default=None, description="Schema violations: the keyword.")
    configuration_id: str | None = None


class SchemaViolator(BaseModel):
    id: str
    name: str
    errors: list[SchemaViolation] = Field(description="The first few of its violations.")


class Problem(BaseModel):
    """RFC 9457 problem details, as ``application/problem+json``."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    configurations: list[SchemaViolator] | None = Field(
        default=None, description="409 on a schema change: the configurations it would fail."
    )
    first_revision: int | None = Field(
        default=None,
        description="422 on an application rollback to a revision from before the application"
        " existed: the revision that created it (send `empty_ok` to go back there anyway).",
    )
