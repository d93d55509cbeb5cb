"""What a call answers, typed: a resource, a resource with its ETag, or a dry run's answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import pydantic
from configsvc_contract import models

from configsvc_client import transport

T = TypeVar("T", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class Tagged(Generic[T]):
    """A resource with the ETag it was served with; pass ``etag`` as ``if_match`` to a write."""

    value: T
    etag: str


def tagged(model: type[T], reply: transport.Reply) -> Tagged[T]:
    return Tagged(model.model_validate(reply.body), reply.etag or "")


def written(model: type[T], reply: transport.Reply, dry_run: bool) -> T | models.DryRun:
    """The resource a write answered, or the dry run's answer."""
    return models.DryRun.model_validate(reply.body) if dry_run else model.model_validate(reply.body)


def dry_run_or_none(reply: transport.Reply, dry_run: bool) -> models.DryRun | None:
    """A delete's answer: nothing, or the dry run's."""
    return models.DryRun.model_validate(reply.body) if dry_run else None
