"""History: who made a change, the versions of a resource, diffs between them, rollbacks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from configsvc_contract.models.configurations import Configuration
from configsvc_contract.models.fields import Input, Ulid

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


class RollbackIn(Input):
    """Body of POST /configurations/{id}/rollback."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"to_version": 3}]})

    to_version: int = Field(ge=1, le=2**31 - 1)


class ApplicationRollbackIn(Input):
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
