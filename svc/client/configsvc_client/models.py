"""The API's data shapes: request bodies, resources, pages, problems and feed messages.

Shared by the server (validation and the OpenAPI document) and by ``configsvc_client``; this
module must import nothing beyond pydantic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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


LABELS_MAX = 32
LABEL_KEY_MAX = 64
LABEL_VALUE_MAX = 256
CLIENT_ID_MAX = 128
REASON_MAX = 1024
RESULTS_MAX = 10_000

LabelKey = Annotated[str, StringConstraints(min_length=1, max_length=LABEL_KEY_MAX)]
LabelValue = Annotated[str, StringConstraints(max_length=LABEL_VALUE_MAX)]


class Hello(_Input):
    """Optional, first on a socket: who the client is, for the fleet view."""

    type: Literal["hello"]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=CLIENT_ID_MAX)]
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, max_length=LABELS_MAX)
    sdk: Annotated[str, StringConstraints(max_length=CLIENT_ID_MAX)] = ""


class AckResult(_Input):
    """What the client did with one configuration it received."""

    configuration_id: Ulid
    version: int = Field(ge=1)
    status: Literal["applied", "rejected"]
    reason: Annotated[str, StringConstraints(max_length=REASON_MAX)] | None = None


class Ack(_Input):
    """Optional: the client applied what it received up to ``revision`` of an application."""

    type: Literal["ack"]
    application_id: Ulid
    revision: int = Field(ge=0)
    results: list[AckResult] = Field(default_factory=list, max_length=RESULTS_MAX)


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


# --- the fleet: who runs what (GET .../clients) ------------------------------------------------


class ClientRejection(BaseModel):
    configuration_id: str
    version: int
    reason: str | None = None
    at: str = Field(description="When the server received the rejection (ISO 8601).")


class FleetClient(BaseModel):
    """One subscription of one client socket, as its worker last reported it."""

    client_id: str | None = Field(description="From the client's hello; null without one.")
    labels: dict[str, str]
    sdk: str | None
    remote_addr: str | None
    worker: str = Field(description="host:pid of the worker holding the socket.")
    connected: bool
    connected_at: datetime
    disconnected_at: datetime | None = None
    delivered_revision: int
    applied_revision: int | None = Field(description="From the client's acks; null without.")
    lag: int | None = Field(description="The application's head revision minus applied.")
    rejections: list[ClientRejection]


class FleetClients(BaseModel):
    items: list[FleetClient]


class ClientsSummary(BaseModel):
    """Connected subscribers of a configuration's application, by what they run."""

    versions: dict[str, int] = Field(description="Applied version -> clients.")
    rejected: dict[str, int] = Field(description="Rejected version -> clients.")
    unknown: int = Field(description="Connected clients that never acked this configuration.")
