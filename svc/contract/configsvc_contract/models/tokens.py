"""Access tokens: their grants, expiry, the bodies that make and replace them, how they list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from configsvc_contract.models.fields import ID_PATTERN, Input, Ulid
from configsvc_contract.models.names import Name

TOKEN_GRANTS_MAX = 1000
# An application's id, or "*" for every one: built from ID_PATTERN, which is defined once.
GRANT_TARGET_PATTERN = r"^(\*|" + ID_PATTERN.removeprefix("^").removesuffix("$") + ")$"


class Grant(Input):
    """Access to one application, or to every one with ``"*"``; ``write`` implies ``read``.
    ``metrics`` (on ``"*"`` only) lets a scraper read ``GET /metrics`` and nothing else."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"access": {"enum": ["read", "write"]}}},
                {"properties": {"application_id": {"const": "*"}}},
            ]
        }
    )

    application_id: Annotated[str, Field(pattern=GRANT_TARGET_PATTERN)]
    access: Literal["read", "write", "metrics"]

    @model_validator(mode="after")
    def _metrics_on_all(self) -> Grant:
        if self.access == "metrics" and self.application_id != "*":
            raise ValueError('a metrics grant is on "*": metrics are not per application')
        return self


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 string (or a datetime, from Python): not a number, not a bare date."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return value
    raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z")


# Lax inside (JSON has no date-time type: the string is parsed), strict about the shape outside.
def _in_utc(value: datetime | None) -> datetime | None:
    """In UTC, as it is stored and shown: 9999-12-31T23:59:59-05:00 is in year 10000 there,
    which no datetime (nor the service's answer) can hold."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must fall within the years 1 to 9999 once in UTC") from None


_LaxDatetime = Annotated[AwareDatetime, Field(strict=False)]
ExpiresAt = Annotated[
    _LaxDatetime | None,
    BeforeValidator(_rfc3339),
    AfterValidator(_in_utc),
    Field(default=None, description="RFC 3339 with a time zone, in the future; null: never."),
]


# Each grant at most once (the server refuses a repeat, naming it: `grants.3`).
TokenGrants = Annotated[
    list[Grant], Field(max_length=TOKEN_GRANTS_MAX, json_schema_extra={"uniqueItems": True})
]


class TokenIn(Input):
    """Body of POST /tokens."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "billing-prod",
                    "grants": [{"application_id": "01JDQ2Z8B6M4R1V3XK7N9P0TQS", "access": "read"}],
                }
            ]
        }
    )

    name: Name
    admin: bool = False
    grants: TokenGrants = []
    expires_at: ExpiresAt = None


class TokenReplace(Input):
    """Body of PUT /tokens/{id}: replaces name, grants and expiry."""

    name: Name
    grants: TokenGrants = []
    expires_at: ExpiresAt = None


class Token(BaseModel):
    """A token as listed: never its secret."""

    id: Ulid
    name: str
    admin: bool
    grants: list[Grant]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most about once a minute.")


class TokenCreated(Token):
    token: str = Field(description="The secret (cfs_...): shown this once, never again.")


class TokenPage(BaseModel):
    items: list[Token]
    next_cursor: str | None
