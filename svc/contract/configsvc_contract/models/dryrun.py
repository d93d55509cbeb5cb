"""A dry run's answer (``?dry_run=true`` on any write): what the write would do."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from configsvc_contract.models.configurations import SchemaViolation


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
