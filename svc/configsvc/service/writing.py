"""What the write path (service/writes.py) passes along: who writes (:class:`Write`), what the
write is about (:class:`Target`), what it did (:class:`Change`) and the operation's own step.

A module of its own so that the steps of the write path (audit, previews, schemas) name these
types without importing the path that calls them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.service import validators
from configsvc.store import versions


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the token's public id and name (never its secret)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Write:
    """Who asks for a write and why; ``dry_run`` checks and applies it, then rolls it back.

    ``remote_addr`` and ``user_agent`` are for the audit trail only.
    ``caller`` is what the write is checked against (None: an internal write, unchecked).
    ``validators`` is the worker's cache of compiled schemas (None: compile each time).
    ``size`` (the request body's bytes) counts against the shared commit's byte bound.
    """

    actor: Actor | None = None
    caller: access.Caller | None = None
    reason: str = ""
    request_id: str | None = None
    dry_run: bool = False
    remote_addr: str | None = None
    user_agent: str | None = None
    validators: validators.Validators | None = None
    size: int = 0

    def stamp(self) -> versions.Stamp:
        """What every version row this write makes records about it."""
        actor = self.actor
        return versions.Stamp(
            actor.id if actor else None, actor.name if actor else None,
            self.reason or None, self.request_id,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did, as the change log records it.

    ``versions`` lists the (version op, configuration) rows it makes when that is not simply
    (op, resource), e.g. for a rollback or an application's cascade; ``action`` names it in the
    audit trail when the op's usual name (audit.ACTIONS) does not fit. ``invalid`` is a schema
    refusal that a dry run reports instead of raising.
    """

    op: str
    resource: dict[str, Any]
    application_id: str
    configuration_id: str | None = None
    versions: tuple[tuple[str, dict[str, Any]], ...] | None = None
    action: str | None = None
    invalid: errors.SchemaInvalid | errors.SchemaConflict | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """What a write is about, known before it runs: audited if the write is refused."""

    action: str
    kind: str
    id: str | None
    application_id: str | None = None


# Refusals the write path audits (as ``invalid``); a 404 names nothing to audit.
AUDITED_REFUSALS = (
    errors.Invalid,
    errors.Conflict,
    errors.PreconditionFailed,
    errors.Gone,
    errors.Forbidden,
    errors.SchemaConflict,
)


Step = Callable[[asyncpg.Connection, int], Awaitable[Change]]
# The versions If-Match accepts (one, or any of several); None: any current version.
IfMatch = int | frozenset[int] | None
