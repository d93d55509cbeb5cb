"""The API's data shapes: request bodies, resources, pages, problems and feed messages.

Shared by the server (validation and the OpenAPI document) and by ``configsvc_client``; this
module must import nothing beyond pydantic.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    RootModel,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

# A ULID as the service makes them: 26 characters of Crockford base32.
ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
# Every read says which global revision it reflects, every write which it committed; a read may
# ask for no older state than a revision (read-your-writes across the service's workers).
REVISION_HEADER = "Config-Revision"
MIN_REVISION_HEADER = "Config-Min-Revision"
NAME_MAX = 256
COMMENTS_MAX = 1024
# Deepest nesting of arrays and objects accepted in a body, a config or a feed message: deep
# enough for any real configuration, shallow enough for every recursive walk of it.
MAX_JSON_DEPTH = 64
# Line breaks and tabs are what a comment may hold that a name may not.
_COMMENT_LAYOUT = frozenset("\t\n\r")


def _invisible(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """The first control (Cc) or format (Cf) character of ``value`` not in ``allowed``."""
    for char in value:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cf"):
            return char
    return None


def normal_name(value: str) -> str:
    """A name as it is stored and looked up: NFC, so that one spelling is one name.

    ``ValueError`` for what no name may be: blank, padded with whitespace, or holding a control
    or format character (ANSI escapes, zero-width spaces). Case is kept: ``Café`` is not ``café``.
    """
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValueError("must not be blank")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    char = _invisible(value)
    if char is not None:
        raise ValueError(f"must not contain the control or format character U+{ord(char):04X}")
    return value


def normal_comments(value: str) -> str:
    """Comments in NFC; line breaks and tabs allowed, other control and format characters not."""
    value = unicodedata.normalize("NFC", value)
    char = _invisible(value, _COMMENT_LAYOUT)
    if char is not None:
        raise ValueError(f"must not contain the control or format character U+{ord(char):04X}")
    return value


@functools.cache
def _refused() -> tuple[list[int], list[int]]:
    """The code points no name or comment may hold (controls and format characters), and the
    whitespace ``str.strip`` removes: one pass over Unicode, made when a schema is first built."""
    invisible, spaces = [], []
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf"):
            invisible.append(code)
        elif char.isspace():
            spaces.append(code)
    return invisible, spaces


def _class(refused: list[int]) -> str:
    """``[^...]`` of these sorted code points. In the BMP, ranges of ``\\uHHHH`` escapes, which
    ECMA 262, Python and Rust regexes read alike; beyond it each character itself and no ranges
    (the engines spell those escapes differently, and ECMA 262 without the u flag reads an
    astral character as two code units: a range of them would not even compile)."""
    spans: list[list[int]] = []
    for code in refused:
        if spans and spans[-1][1] == code - 1 and code <= 0xFFFF:
            spans[-1][1] = code
        else:
            spans.append([code, code])

    def one(code: int) -> str:
        return f"\\u{code:04X}" if code <= 0xFFFF else chr(code)

    return "[^" + "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in spans) + "]"


@functools.cache
def name_pattern() -> str:
    """What normal_name accepts, as a JSON Schema pattern (the lengths are the schema's own
    keywords): no control or format character, no whitespace first or last."""
    invisible, spaces = _refused()
    char, edge = _class(invisible), _class(sorted(invisible + spaces))
    return f"^{edge}({char}*{edge})?$"


@functools.cache
def comments_pattern() -> str:
    """What normal_comments accepts: no control or format character but line breaks and tabs."""
    layout = {ord(c) for c in _COMMENT_LAYOUT}
    return f"^{_class([c for c in _refused()[0] if c not in layout])}*$"


def _name_schema(schema: dict[str, Any]) -> None:
    schema["pattern"] = name_pattern()


def _comments_schema(schema: dict[str, Any]) -> None:
    schema["pattern"] = comments_pattern()


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=NAME_MAX),
    AfterValidator(normal_name),
    Field(
        description="No control or format character; no whitespace first or last.",
        json_schema_extra=_name_schema,
    ),
]
Comments = Annotated[
    str,
    StringConstraints(max_length=COMMENTS_MAX),
    AfterValidator(normal_comments),
    Field(
        description="No control or format character but line breaks and tabs.",
        json_schema_extra=_comments_schema,
    ),
]
Ulid = Annotated[str, Field(pattern=ID_PATTERN, examples=["01JDQ2Z8B6M4R1V3XK7N9P0TQS"])]
# What a stored JSON value may be, as the documents say it (PostgreSQL's jsonb holds no U+0000,
# in a key or a string, at any depth). Only for the schema: bodies are checked by the server.
_NO_NUL = "^[^\\u0000]*$"
_KEYS = {"propertyNames": {"pattern": _NO_NUL}}


class JsonValue(RootModel[Any]):
    """Any JSON value a configuration may hold (documents only; never used to validate)."""

    root: (
        Annotated[dict[str, JsonValue], Field(json_schema_extra=_KEYS)]
        | list[JsonValue]
        | Annotated[str, Field(pattern=_NO_NUL)]
        | float
        | bool
        | None
    )


_JSON_OBJECT = TypeAdapter(Annotated[dict[str, JsonValue], Field(json_schema_extra=_KEYS)])


class _JsonObjectSchema:
    """Documents a ``dict[str, Any]`` as a JSON object of JsonValues (validation unchanged)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _core: Any, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return handler(_JSON_OBJECT.core_schema)


ConfigObject = Annotated[
    dict[str, Any],
    _JsonObjectSchema,
    Field(description="A JSON object; values may be any JSON (no U+0000 in a key or string)."),
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


class SchemaViolation(BaseModel):
    """One way a body fails a JSON Schema (or a schema fails the draft 2020-12 meta-schema)."""

    field: str = Field(description="JSON pointer into the request body, without the first '/' "
                       "(`config/limits/rate`).")  # fmt: skip
    keyword: str = Field(description="The schema keyword that failed, e.g. `maximum`.")
    message: str
    configuration_id: str | None = Field(
        default=None, description="Which configuration, when a write checks several."
    )
    name: str | None = Field(default=None, description="Its name, when it is not the body's.")


SchemaStatus = Literal["none", "valid", "invalid"]


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
    schema_status: SchemaStatus = Field(
        default="none",
        description="`none`: no schema covers it; `valid`; `invalid`: a schema stored with "
        "`force=true` fails it (see `schema_errors`) until it is fixed.",
    )
    schema_errors: list[SchemaViolation] = Field(default_factory=list)


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

    application_id: Annotated[str, Field(pattern=r"^(\*|[0-9A-HJKMNP-TV-Z]{26})$")]
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
    grants: TokenGrants = []
    expires_at: ExpiresAt = None


class TokenReplace(_Input):
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


# --- history, rollback and audit -------------------------------------------------------------

VersionOp = Literal["created", "updated", "deleted", "restored"]


class Actor(BaseModel):
    """Who made a change: a token's public id and name."""

    id: str
    name: str


class _VersionBase(BaseModel):
    version: int = Field(ge=1)
    revision: int = Field(ge=0, description="The global revision of the change that made it.")
    op: VersionOp
    name: str
    comments: str
    actor: Actor | None
    reason: str | None = Field(description="The writer's `X-Change-Reason`, if any.")
    request_id: str | None
    committed_at: datetime


class ConfigurationVersion(_VersionBase):
    """One version of a configuration; for a deletion, the content it had when deleted."""

    config: dict[str, Any]


class ApplicationVersion(_VersionBase):
    """One version of an application."""


class ConfigurationVersionPage(BaseModel):
    items: list[ConfigurationVersion]
    next_cursor: str | None


class ApplicationVersionPage(BaseModel):
    items: list[ApplicationVersion]
    next_cursor: str | None


class FieldChange(BaseModel):
    from_: str = Field(alias="from")
    to: str


class Diff(BaseModel):
    """From one version to another: an RFC 6902 JSON Patch of ``config`` (apply it to the
    ``from`` version's config to get the ``to`` version's), and name/comments when they differ."""

    from_: int = Field(alias="from")
    to: int
    patch: list[dict[str, Any]]
    name: FieldChange | None
    comments: FieldChange | None


class RollbackIn(_Input):
    """Body of POST /configurations/{id}/rollback."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"to_version": 3}]})

    to_version: int = Field(ge=1, le=2**31 - 1)


class ApplicationRollbackIn(_Input):
    """Body of POST /applications/{id}/rollback."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"to_revision": 42}]})

    to_revision: int = Field(ge=0, le=2**63 - 1)
    empty_ok: bool = Field(
        False,
        description="Allow a `to_revision` from before the application existed, which deletes"
        " every configuration it has; without it that is a 422 naming `first_revision`.",
    )


class ApplicationRollback(BaseModel):
    """What an application rollback did, all at ``revision`` (one change-log entry)."""

    revision: int
    configurations: list[Configuration] = Field(description="Changed or restored, as now.")
    deleted: list[Ulid] = Field(description="Ids of configurations created after the revision.")


class AuditTarget(BaseModel):
    kind: str
    id: str | None


class AuditEntry(BaseModel):
    """One audited action; ``outcome`` is ``ok``, ``denied`` (401/403) or ``invalid``
    (409/412/422); ``detail`` says why a refused one was refused."""

    id: int
    at: datetime
    actor: Actor | None
    remote_addr: str | None
    user_agent: str | None
    request_id: str | None
    action: str
    target: AuditTarget
    application_id: str | None
    outcome: Literal["ok", "denied", "invalid"]
    revision: int | None
    reason: str | None
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


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


# --- JSON Schemas and dry runs ---------------------------------------------------------------


class SchemaDocument(RootModel[Annotated[dict[str, Any], _JsonObjectSchema]]):
    """A JSON Schema (draft 2020-12) as a JSON object; only local `$ref`s (`#...`)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "object", "required": ["db_pool"],
                                         "properties": {"db_pool": {"type": "integer",
                                                                    "maximum": 100}}}]}
    )  # fmt: skip


class Schema(BaseModel):
    id: Ulid
    application_id: Ulid
    name: str = Field(description="The configuration name it covers, or `*`: every one "
                      "without a schema of its own.")  # fmt: skip
    schema_: dict[str, Any] = Field(alias="schema")
    version: int = Field(ge=1)
    revision: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class SchemaPage(BaseModel):
    items: list[Schema]
    next_cursor: str | None


class SchemaVersion(BaseModel):
    schema_id: Ulid
    version: int
    revision: int
    op: Literal["created", "updated", "deleted"]
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    actor: Actor | None
    reason: str | None
    request_id: str | None
    committed_at: datetime


class SchemaVersionPage(BaseModel):
    items: list[SchemaVersion]
    next_cursor: str | None


class DryRun(BaseModel):
    """What a write would do (`?dry_run=true`); nothing was written."""

    valid: bool = Field(description="False if the write would fail schema validation (422) or "
                        "a schema change would fail current configurations (409).")  # fmt: skip
    errors: list[SchemaViolation]
    status: int = Field(description="The status the real write would answer.")
    patch: list[dict[str, Any]] = Field(
        description="RFC 6902 JSON Patch from the state now to the state after the write."
    )
    would_be_version: int | None = Field(
        description="The version the resource would have (null for an application rollback)."
    )
    reach: int | None = Field(
        default=None,
        description="A rollout's only: how many connected clients its first step would reach.",
    )
    subscribers: int = Field(ge=0, description="Live subscriptions that would receive it.")


# --- the live feed: messages on GET /api/v1/ws -------------------------------------------------

ChangeOp = Literal[
    "created",
    "updated",
    "deleted",
    "restored",
    "rolled_back",
    "application_updated",
    "application_deleted",
]


# The identity of a change-log entry (a UUID): revisions alone repeat after a failover.
ENTRY_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
ENTRY_ID_DOC = "Identity of the change-log entry at `revision` (null when there is none)."


class Subscribe(_Input):
    type: Literal["subscribe"]
    application_id: str | None = None
    application_name: str | None = None
    since: int | None = Field(default=None, ge=0)
    since_entry_id: str | None = Field(
        default=None, pattern=ENTRY_ID_PATTERN,
        description="The entry_id the client last saw with revision `since`: if the server's "
        "entry at that revision is another one (a failover lost it), the answer is a reset "
        "snapshot instead of the changes since.",
    )  # fmt: skip


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
    entry_id: str | None = Field(default=None, description=ENTRY_ID_DOC)
    configurations: list[Configuration]
    reset: bool = False


class Change(BaseModel):
    """One committed change. ``rolled_back``: a whole application went back to a past revision
    in this ONE change: ``configurations`` (changed or restored, as now) and ``deleted`` (ids)
    are to be applied together, as one step. ``restored``: a deleted configuration is back."""

    type: Literal["change"]
    application_id: str
    revision: int
    op: ChangeOp
    reason: str | None = None
    request_id: str | None = None
    configuration: dict[str, Any] | None = None
    application: dict[str, Any] | None = None
    actor: Actor | None = None
    entry_id: str | None = Field(default=None, description=ENTRY_ID_DOC)
    configurations: list[dict[str, Any]] | None = None
    deleted: list[str] | None = None
    rollout: ChangeRollout | None = Field(
        default=None,
        description="Set when a rollout sends this frame to this subscriber alone: the "
        "candidate as it is taken in (its `version` is the one the promotion will give it), or "
        "the base again as an abort lets it go. Other subscribers get nothing at that revision, "
        "which is no gap: a subscription skips every revision that is not its business.",
    )


class ChangeRollout(BaseModel):
    """Which rollout sent a change frame, at which step."""

    id: str
    step: int


class Synced(BaseModel):
    type: Literal["synced"]
    application_id: str
    revision: int
    entry_id: str | None = Field(default=None, description=ENTRY_ID_DOC)


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


# --- the console: sessions and search -----------------------------------------------------------


class SessionIn(_Input):
    """Body of POST /sessions: the token; or `{}`, with the token in `Authorization: Bearer`."""

    token: str | None = Field(default=None, max_length=256, pattern=_NO_NUL)


class Session(BaseModel):
    """A console session: the token it stands for, when it ends, its CSRF value."""

    id: Ulid
    expires_at: datetime
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every write made with the cookie."
    )
    token: Token


class SearchMatch(BaseModel):
    """Where a hit matched: a name, or a key or scalar value at a JSON pointer."""

    where: Literal["application_name", "configuration_name", "key", "value"]
    path: str | None = Field(description="JSON pointer into the config (keys, values).")
    text: str = Field(description="What matched (at most 200 characters).")


class SearchHit(BaseModel):
    """An application or a configuration that matched, with up to 10 of its matches."""

    id: Ulid
    kind: Literal["application", "configuration"]
    application_id: Ulid
    application_name: str
    configuration_name: str | None
    match_count: int
    matches: list[SearchMatch]


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


# --- rollouts (progressive delivery) ---------------------------------------------------------

RolloutReason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_MAX),
    AfterValidator(normal_comments),
    Field(description="Why; no control or format character but line breaks and tabs.",
          json_schema_extra=_comments_schema),
]  # fmt: skip


def _whole(value: Any) -> Any:
    # Numbers arrive as Decimal (exactjson) or float: 5.0 is the integer 5, 5.5 is refused.
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return int(value)
    return value


# JSON has one number type, and JSON Schema's "integer" takes 5.0: so do these counts.
Whole = Annotated[int, BeforeValidator(_whole)]


# A rollout keeps its labels in PostgreSQL, whose jsonb holds no U+0000.
_NO_NUL = r"^[^\x00]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the character U+0000")
    return value


# Checked by a validator, not a pattern: pydantic would document a key pattern as
# patternProperties, which lets any other key through with any value.
_StoredKey = Annotated[str, StringConstraints(min_length=1, max_length=LABEL_KEY_MAX),
                       AfterValidator(_no_nul)]  # fmt: skip
_KEYS_SCHEMA: dict[str, Any] = {
    "propertyNames": {"minLength": 1, "maxLength": LABEL_KEY_MAX, "pattern": _NO_NUL}
}
_StoredValue = Annotated[str, StringConstraints(max_length=LABEL_VALUE_MAX, pattern=_NO_NUL)]


class RolloutStep(_Input):
    """One step: ``percent`` of the eligible fleet holds the candidate for ``hold_s`` seconds."""

    percent: Whole = Field(ge=1, le=100)
    hold_s: Whole = Field(default=0, ge=0, le=86400)


class AbortOn(_Input):
    """How many clients' rejections of the candidate abort the rollout."""

    rejected: Whole = Field(ge=1, le=2**31 - 1)


class RolloutIn(_Input):
    """Body of POST /configurations/{id}/rollouts."""

    config: ConfigObject
    comments: Comments | None = None
    reason: RolloutReason
    steps: list[RolloutStep] = Field(min_length=1, max_length=10)
    abort_on: AbortOn
    labels: dict[_StoredKey, _StoredValue] = Field(
        default_factory=dict, max_length=LABELS_MAX, json_schema_extra=_KEYS_SCHEMA
    )


class RolloutReasonIn(_Input):
    """Body of POST .../promote and .../abort."""

    reason: RolloutReason


class RolloutCandidate(BaseModel):
    """The configuration document the rollout delivers."""

    config: dict[str, Any]


class RolloutClients(BaseModel):
    """Connected subscribers the rollout targets now, by what they acked of the candidate."""

    targeted: int
    applied: int
    rejected: int
    unknown: int


class RolloutRejection(BaseModel):
    """A client that rejected the candidate, and why."""

    client_id: str | None
    reason: str | None
    at: str


class Rollout(BaseModel):
    """A progressive delivery of a candidate to a growing share of the fleet."""

    id: str
    configuration_id: str
    application_id: str
    state: Literal["running", "promoted", "aborted", "cancelled"]
    step: int
    percent: int
    base_version: int
    candidate: RolloutCandidate
    steps: list[RolloutStep]
    abort_on: AbortOn
    labels: dict[str, str]
    created_at: str
    updated_at: str
    reason: str
    ended_reason: str | None
    clients: RolloutClients
    rejections: list[RolloutRejection]


class RolloutPage(BaseModel):
    """A page of a configuration's rollouts, newest first."""

    items: list[Rollout]
    next_cursor: str | None
