"""Rollouts (progressive delivery): the bodies that start, promote and abort one, and the
rollout as it is read back."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints

from configsvc_contract.models.feed import LABEL_KEY_MAX, LABEL_VALUE_MAX, LABELS_MAX, REASON_MAX
from configsvc_contract.models.fields import ConfigObject, Input
from configsvc_contract.models.names import Comments, comments_schema, normal_comments

RolloutReason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_MAX),
    AfterValidator(normal_comments),
    Field(description="Why; no control or format character but line breaks and tabs.",
          json_schema_extra=comments_schema),
]  # fmt: skip


def _whole(value: Any) -> Any:
    # Numbers arrive as Decimal (exactjson) or float: 5.0 is the integer 5, 5.5 is refused.
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return int(value)
    return value


# JSON has one number type, and JSON Schema's "integer" takes 5.0: so do these counts.
Whole = Annotated[int, BeforeValidator(_whole)]


# A rollout keeps its labels in PostgreSQL, whose jsonb holds no U+0000. The same rule as
# fields.NO_NUL, spelled as the rollout's schemas in the OpenAPI document have always had it.
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


class RolloutStep(Input):
    """One step: ``percent`` of the eligible fleet holds the candidate for ``hold_s`` seconds."""

    percent: Whole = Field(ge=1, le=100)
    hold_s: Whole = Field(default=0, ge=0, le=86400)


class AbortOn(Input):
    """How many clients' rejections of the candidate abort the rollout."""

    rejected: Whole = Field(ge=1, le=2**31 - 1)


class RolloutIn(Input):
    """Body of POST /configurations/{id}/rollouts."""

    config: ConfigObject
    comments: Comments | None = None
    reason: RolloutReason
    steps: list[RolloutStep] = Field(min_length=1, max_length=10)
    abort_on: AbortOn
    labels: dict[_StoredKey, _StoredValue] = Field(
        default_factory=dict, max_length=LABELS_MAX, json_schema_extra=_KEYS_SCHEMA
    )


class RolloutReasonIn(Input):
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
