"""What a write leaves behind, in its own transaction: the change-log entry (its NOTIFY goes
out at the shared commit), the version rows and the audit entry.

A dry run records the version rows (they are part of what it previews) and nothing else: no
change-log entry, no audit entry.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc.service import audit, writing
from configsvc.store import changes, versions
from configsvc.store import schemas as schema_store


async def change_log(
    conn: asyncpg.Connection, write: writing.Write, revision: int, change: writing.Change
) -> None:
    """The change-log entry of ``change``, at ``revision``."""
    await changes.record(
        conn, revision, change.op, change.resource,
        application_id=change.application_id,
        configuration_id=change.configuration_id,
        reason=write.reason or None, request_id=write.request_id,
        actor=None if write.actor is None else (write.actor.id, write.actor.name),
    )  # fmt: skip


async def history(
    conn: asyncpg.Connection, write: writing.Write, revision: int, change: writing.Change
) -> None:
    """The version rows and the audit entry of ``change``, in its transaction."""
    stamp = write.stamp()
    audited = not write.dry_run  # an identity value is spent even when the write rolls back
    if change.op.startswith("schema_"):
        op = change.op.removeprefix("schema_")
        await schema_store.record(conn, op, change.resource, revision, stamp)
        action, name, app_id = (
            audit.ACTIONS[change.op],
            change.resource["name"],
            change.application_id,
        )
        if audited:
            await audit.record(conn, write, action, "schema", name, app_id, revision=revision)
        return
    if change.op == "rollout":  # a rollout's state change: no version row (service/rollouts.py)
        if audited:
            rollout_id = change.resource["rollout"]["id"]
            await audit.record(conn, write, change.action or "rollout", "rollout", rollout_id,
                               change.application_id, revision=revision)  # fmt: skip
        return
    is_app = change.op.startswith("application_")
    if is_app:
        op = change.op.removeprefix("application_")
        await versions.record_application(conn, op, change.resource, revision, stamp)
    for op, resource in _configuration_versions(change, is_app):
        await versions.record_configuration(conn, op, resource, revision, stamp)
    kind = "application" if is_app or change.op == "rolled_back" else "configuration"
    target = change.application_id if kind == "application" else change.configuration_id
    action = change.action or audit.ACTIONS[change.op]
    if audited:
        await audit.record(
            conn, write, action, kind, target, change.application_id, revision=revision
        )


def _configuration_versions(
    change: writing.Change, is_app: bool
) -> tuple[tuple[str, dict[str, Any]], ...]:
    if change.versions is not None:
        return change.versions
    return () if is_app else ((change.op, change.resource),)
