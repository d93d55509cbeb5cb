"""The live feed (GET /api/v1/ws): what a client sends, and the messages the server sends.

The server's messages are one discriminated union, ``ServerMessage``, told apart by ``type``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from configsvc_contract.models.configurations import Configuration
from configsvc_contract.models.fields import Input, Ulid
from configsvc_contract.models.history import Actor

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


class Subscribe(Input):
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


class Unsubscribe(Input):
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


class Hello(Input):
    """Optional, first on a socket: who the client is, for the fleet view."""

    type: Literal["hello"]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=CLIENT_ID_MAX)]
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict, max_length=LABELS_MAX)
    sdk: Annotated[str, StringConstraints(max_length=CLIENT_ID_MAX)] = ""


class AckResult(Input):
    """What the client did with one configuration it received."""

    configuration_id: Ulid
    version: int = Field(ge=1)
    status: Literal["applied", "rejected"]
    reason: Annotated[str, StringConstraints(max_length=REASON_MAX)] | None = None


class Ack(Input):
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
