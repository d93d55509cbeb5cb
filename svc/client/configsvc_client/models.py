"""The API's data shapes: request bodies, resources, pages, problems and feed messages.

Shared by the server (validation and the OpenAPI document) and by ``configsvc_client``; this
module must import nothing beyond pydantic.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

# A ULID as the service makes them: 26 characters of Crockford base32.
ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
NAME_MAX = 256
COMMENTS_MAX = 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# The pattern tells clients (and generated tests) what _not_blank enforces: it searches for one
# character Python's str.isspace() rejects, which is what its `\S` means.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": r"\S"}),
]
Comments = Annotated[str, StringConstraints(max_length=COMMENTS_MAX)]
Ulid = Annotated[str, Field(pattern=ID_PATTERN, examples=["01JDQ2Z8B6M4R1V3XK7N9P0TQS"])]
ConfigObject = Annotated[
    dict[str, Any], Field(description="A JSON object; values may be any JSON.")
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ApplicationIn(_Input):
    """Body of POST and PUT /applications."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing", "comments": "Invoices and payments"}]}
    )

    name: Name
    comments: Comments = ""


class ConfigurationIn(_Input):
    """Body of POST /configurations."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "01JDQ2Z8B6M4R1V3XK7N9P0TQS",
                    "name": "production",
                    "config": {"db_pool": 10, "features": {"dark_mode": True}},
                }
            ]
        }
    )

    application_id: str
    name: Name
    comments: Comments = ""
    config: ConfigObject


class ConfigurationReplace(_Input):
    """Body of PUT /configurations/{id}; ``application_id``, if given, must be the current one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "production", "comments": "", "config": {"db_pool": 20}}]
        }
    )

    application_id: str | None = None
    name: Name
    comments: Comments = ""
    config: ConfigObject


class Application(BaseModel):
    id: Ulid
    name: str
    comments: str
    version: int = Field(ge=1, description="Starts at 1, grows by one with every change.")
    revision: int = Field(ge=1, description="Global revision of this resource's last change.")
    created_at: datetime
    updated_at: datetime


class ApplicationDetail(Application):
    configuration_ids: list[Ulid] = Field(description="Ids of its configurations, in id order.")


class Configuration(BaseModel):
    id: Ulid
    application_id: Ulid
    name: str
    comments: str
    config: dict[str, Any]
    version: int = Field(ge=1)
    revision: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class ApplicationPage(BaseModel):
    items: list[Application]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class ConfigurationPage(BaseModel):
    items: list[Configuration]
    next_cursor: str | None


# --- access tokens ---------------------------------------------------------------------------

TOKEN_GRANTS_MAX = 1000


class Grant(_Input):
    """Access to one application, or to every one with ``"*"``; ``write`` implies ``read``."""

    application_id: Annotated[str, Field(pattern=r"^(\*|[0-9A-HJKMNP-TV-Z]{26})$")]
    access: Literal["read", "write"]


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$")


def _rfc3339(value: object) -> object:
    """Only an RFC 3339 string (or a datetime, from Python): not a number, not a bare date."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return value
    raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z")


# Lax inside (JSON has no date-time type: the string is parsed), strict about the shape outside.
_LaxDatetime = Annotated[AwareDatetime, Field(strict=False)]
ExpiresAt = Annotated[
    _LaxDatetime | None,
    BeforeValidator(_rfc3339),
    Field(default=None, description="RFC 3339 with a time zone; null: never."),
]


class TokenIn(_Input):
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
    grants: Annotated[list[Grant], Field(max_length=TOKEN_GRANTS_MAX)] = []
    expires_at: ExpiresAt = None


class TokenReplace(_Input):
    """Body of PUT /tokens/{id}: replaces name, grants and expiry."""

    name: Name
    grants: Annotated[list[Grant], Field(max_length=TOKEN_GRANTS_MAX)] = []
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


class Actor(BaseModel):
    """Who made a change: a token's id and name."""

    id: str
    name: str


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field or query parameter.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as ``application/problem+json``."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# --- the live feed: messages on GET /api/v1/ws -------------------------------------------------

ChangeOp = Literal["created", "updated", "deleted", "application_updated", "application_deleted"]


class Subscribe(_Input):
    type: Literal["subscribe"]
    application_id: str | None = None
    application_name: str | None = None
    since: int | None = Field(default=None, ge=0)


class Unsubscribe(_Input):
    type: Literal["unsubscribe"]
    application_id: str


class Snapshot(BaseModel):
    type: Literal["snapshot"]
    application_id: str
    revision: int
    configurations: list[Configuration]
    reset: bool = False


class Change(BaseModel):
    type: Literal["change"]
    application_id: str
    revision: int
    op: ChangeOp
    configuration: dict[str, Any] | None = None
    application: dict[str, Any] | None = None
    actor: Actor | None = None


class Synced(BaseModel):
    type: Literal["synced"]
    application_id: str
    revision: int


class FeedError(BaseModel):
    type: Literal["error"]
    code: str
    detail: str
    application_id: str | None = None


ServerMessage = Annotated[Snapshot | Change | Synced | FeedError, Field(discriminator="type")]
