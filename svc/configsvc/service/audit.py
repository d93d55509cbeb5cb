"""The audit trail's two doors: in the transaction of a write, and on its own for a refusal.

:func:`record` runs inside ``writes.apply`` (or any caller's transaction, e.g. a token change), so
a change cannot commit without its entry. :func:`refused` records a request that changed
nothing (401/403 from access control, or 409/412/422 from the write path) in its own short
transaction.
"""

from __future__ import annotations

from typing import Literal

import asyncpg

from configsvc.db import database
from configsvc.service import writing
from configsvc.store import audit

Outcome = Literal["ok", "denied", "invalid"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "denied", "invalid")

# What each change-log op is called in the trail; rollbacks name themselves (Change.action).
ACTIONS = {
    "created": "configuration.create",
    "updated": "configuration.update",
    "deleted": "configuration.delete",
    "restored": "configuration.restore",
    "rolled_back": "application.rollback",
    "application_created": "application.create",
    "application_updated": "application.update",
    "application_deleted": "application.delete",
    "schema_created": "schema.create",
    "schema_updated": "schema.update",
    "schema_deleted": "schema.delete",
}
# Token changes are recorded by service/tokens.py under these.
TOKEN_ACTIONS = ("token.create", "token.replace", "token.revoke", "token.bootstrap")
# Console sign-ins and sign-outs, by service/sessions.py.
SESSION_ACTIONS = ("session.create", "session.delete")


def entry(
    write: writing.Write, action: str, target_kind: str, target_id: str | None,
    application_id: str | None, outcome: Outcome, revision: int | None = None,
    detail: str | None = None,
) -> audit.Entry:  # fmt: skip
    """The entry for ``write``: who (actor, address, agent, request id) and why (reason)."""
    actor = write.actor
    return audit.Entry(
        action, target_kind, target_id, application_id, outcome,
        actor_id=actor.id if actor else None, actor_name=actor.name if actor else None,
        remote_addr=write.remote_addr, user_agent=write.user_agent,
        request_id=write.request_id, revision=revision, reason=write.reason or None,
        detail=detail,
    )  # fmt: skip


async def record(
    conn: asyncpg.Connection, write: writing.Write, action: str, target_kind: str,
    target_id: str | None, application_id: str | None, *, revision: int | None = None,
) -> None:  # fmt: skip
    """An ``ok`` entry in the caller's transaction: it commits with the change or not at all."""
    await audit.insert(
        conn, entry(write, action, target_kind, target_id, application_id, "ok", revision)
    )


async def refused(
    db: database.Database, write: writing.Write, action: str, target_kind: str,
    target_id: str | None, application_id: str | None, outcome: Outcome, reason: str,
) -> None:  # fmt: skip
    """A refused request (``denied``: 401/403; ``invalid``: 409/412/422), in its own transaction.

    ``reason`` says why it was refused; it must never quote a secret.
    """
    refusal = entry(write, action, target_kind, target_id, application_id, outcome, None, reason)
    async with db.connection() as conn:
        await audit.insert(conn, refusal)
