"""The audit log: one entry per audited action, what it targeted and how it ended."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from configsvc_contract.models.history import Actor


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
