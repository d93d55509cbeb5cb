"""The one write path: every change to applications and configurations goes through :func:`apply`.

In one transaction it takes the next revision, lets the operation check its preconditions and
write, then records the change (the change-log entry and its NOTIFY, both effective only at
commit). Whatever must hold for *every* write (permission, schema, version row, audit entry)
is one edit here. A dry run walks the very same path and rolls back at the end, so it spends no
revision and wakes no listener; it never takes the revision counter's lock nor writes a log
entry, so it never waits behind (or holds up) the writes that commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import audit, previews, schemas
from configsvc.store import applications, changes, configurations, rollouts, versions
from configsvc.store import schemas as schema_store

log = logging.getLogger(__name__)


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
    validators: schemas.Validators | None = None
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


class DryRun(Exception):
    """Raised by :func:`apply` for a dry run, once it has rolled back: what the write would do."""

    def __init__(self, preview: previews.Preview) -> None:
        super().__init__(preview.op)
        self.preview = preview


async def apply(
    db: database.Database, write: Write, step: Step, target: Target | None = None
) -> Change:
    """Run ``step(conn, revision)`` as one write, in one transaction, and log its change,
    its version rows and its audit entry. A refusal in AUDITED_REFUSALS of a write with a
    ``target`` is audited on its own, after the write's transaction has rolled back.

    A dry run raises :class:`DryRun` instead of returning, and is never audited: it leaves the
    database exactly as it was."""
    try:
        return await _apply(db, write, step, target)
    except AUDITED_REFUSALS as exc:
        if target is not None and not write.dry_run:
            await _audit_refusal(db, write, target, exc)
        raise


async def _audit_refusal(
    db: database.Database, write: Write, target: Target, exc: errors.ServiceError
) -> None:
    """Record the refusal; if even that fails, the client still gets the refusal, not a 503."""
    try:
        outcome: audit.Outcome = "denied" if isinstance(exc, errors.Forbidden) else "invalid"
        await audit.refused(
            db, write, target.action, target.kind, target.id, target.application_id,
            outcome, str(exc),
        )  # fmt: skip
        exc.audited = True
    except errors.ServiceError as failed:
        log.warning("could not audit a refused %s: %r", target.action, failed)


async def _apply(db: database.Database, write: Write, step: Step, target: Target | None) -> Change:
    if write.dry_run:
        return await _dry_run(db, write, step, target)

    async def work(conn: asyncpg.Connection) -> tuple[tuple[int, Change], int]:
        # In its own savepoint of a transaction shared with concurrent writes (db/group.py):
        # the revision taken here is rolled back with the write if it fails, so revisions
        # stay dense, and the counter's row lock, held to the shared commit, orders commits.
        revision = await changes.next_revision(conn)
        change = await schemas.validated(conn, write, await step(conn, revision))
        await changes.record(
            conn, revision, change.op, change.resource,
            application_id=change.application_id,
            configuration_id=change.configuration_id,
            reason=write.reason or None, request_id=write.request_id,
            actor=None if write.actor is None else (write.actor.id, write.actor.name),
        )  # fmt: skip
        await _history(conn, write, revision, change)
        return (revision, change), write.size

    revision, change = await db.group.run(db.connection, work, _wake)
    db.group.committed = max(db.group.committed, revision)
    return change


async def _wake(conn: asyncpg.Connection, done: list[tuple[int, Change]]) -> None:
    """One NOTIFY per shared commit, however many writes it holds."""
    await changes.notify(conn, max(revision for revision, _ in done))


async def _dry_run(
    db: database.Database, write: Write, step: Step, target: Target | None
) -> Change:
    """The write's every step in a transaction of its own, then :class:`DryRun` (it leaves by
    raising: everything it did is rolled back). It peeks at the next revision instead of
    taking the counter and logs no change, so it never queues behind committing writes."""
    async with db.connection() as conn, conn.transaction():
        revision = await changes.peek_revision(conn)
        before = await previews.document_of(conn, target)
        change = await schemas.validated(conn, write, await step(conn, revision))
        await _history(conn, write, revision, change)
        after = await previews.document_of(conn, target, change)
        raise DryRun(previews.preview(change, before, after))


async def _history(conn: asyncpg.Connection, write: Write, revision: int, change: Change) -> None:
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


def _configuration_versions(change: Change, is_app: bool) -> tuple[tuple[str, dict[str, Any]], ...]:
    if change.versions is not None:
        return change.versions
    return () if is_app else ((change.op, change.resource),)


def precondition(current: int | None, if_version: IfMatch, kind: str, id_: str) -> None:
    """NotFound when the resource is gone, PreconditionFailed when If-Match names an old version.

    ``current`` is the version locked by the write, so nobody can change it before commit.
    """
    if current is None:
        raise errors.NotFound(f"no {kind} with id {id_}")
    wanted = {if_version} if isinstance(if_version, int) else if_version
    if wanted is not None and current not in wanted:
        raise errors.PreconditionFailed(f"{kind} {id_} has changed since that version")


def authorize(write: Write, app_id: str, missing: errors.ServiceError | None) -> None:
    """Refuse the write unless its caller may write the application (``*``: create one).

    Called inside the transaction, once the target's application is known and locked, before
    anything is written; a target the caller may not read is ``missing``, as if absent.
    """
    access.authorize(write.caller, app_id, "write", missing)


# --- applications ------------------------------------------------------------------------


async def create_application(
    db: database.Database, write: Write, name: str, comments: str
) -> dict[str, Any]:
    """A new application; a taken name is ``errors.Conflict``."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        authorize(write, "*", None)
        app = await applications.insert(conn, name, comments, revision)
        return Change("application_created", app, app["id"])

    target = Target("application.create", "application", None)
    return (await apply(db, write, step, target)).resource


async def replace_application(
    db: database.Database, write: Write, app_id: str, fields: dict[str, Any],
    if_version: IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """Replace name and comments, if the application is still at ``if_version`` (when given)."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        missing = errors.NotFound(f"no application with id {app_id}")
        authorize(write, app_id, missing)
        precondition(await applications.lock(conn, app_id), if_version, "application", app_id)
        app = await applications.update(conn, app_id, fields["name"], fields["comments"], revision)
        return Change("application_updated", app, app_id)

    target = Target("application.update", "application", app_id, app_id)
    return (await apply(db, write, step, target)).resource


async def delete_application(
    db: database.Database, write: Write, app_id: str, if_version: IfMatch
) -> int:
    """Delete the application and, in the same transaction, its configurations; returns the
    revision it committed."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        authorize(write, app_id, errors.NotFound(f"no application with id {app_id}"))
        precondition(await applications.lock(conn, app_id), if_version, "application", app_id)
        cascade = [("deleted", c) for c in await configurations.all_of(conn, app_id)]
        await cancel_rollouts(conn, write, app_id, "the application was deleted", revision)
        gone = {**await applications.delete(conn, app_id), "revision": revision}
        return Change("application_deleted", gone, app_id, versions=tuple(cascade))

    target = Target("application.delete", "application", app_id, app_id)
    revision: int = (await apply(db, write, step, target)).resource["revision"]
    return revision


# --- configurations ----------------------------------------------------------------------


async def create_configuration(
    db: database.Database, write: Write, app_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A new configuration; an unknown application is ``errors.Invalid`` on application_id."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        authorize(
            write, app_id, errors.Invalid.one("application_id", f"no application with id {app_id}")
        )
        resource = await configurations.insert(conn, app_id, fields, revision)
        return Change("created", resource, app_id, resource["id"])

    target = Target("configuration.create", "configuration", None, app_id)
    return (await apply(db, write, step, target)).resource


def _authorize_configuration(write: Write, locked: tuple[str, int] | None, config_id: str) -> None:
    if locked is not None:
        authorize(write, locked[0], errors.NotFound(f"no configuration with id {config_id}"))


async def cancel_rollouts(
    conn: asyncpg.Connection, write: Write, app_id: str, why: str, revision: int
) -> set[str]:
    """End the application's running rollouts (it is deleted, or rolled back as a whole, which
    outranks them), each in the audit trail; the configurations they were delivering."""
    cancelled = await rollouts.cancel_in(conn, app_id, why)
    for row in cancelled:
        await audit.record(conn, write, "rollout.cancel", "rollout", row["id"], app_id,
                           revision=revision)  # fmt: skip
    return {row["configuration_id"] for row in cancelled}


async def no_rollout(conn: asyncpg.Connection, config_id: str) -> None:
    """A configuration with a running rollout changes only through it (promote or abort)."""
    running = await rollouts.running_of(conn, config_id)
    if running is not None:
        raise errors.Conflict(
            f"configuration {config_id} has a running rollout {running['id']}: promote or "
            "abort it first", field="rollout",
        )  # fmt: skip


def _same_application(current: str, wanted: str | None) -> None:
    if wanted is not None and wanted != current:
        raise errors.Invalid.one("application_id", f"must be {current}, the current application")


async def replace_configuration(
    db: database.Database, write: Write, config_id: str, fields: dict[str, Any],
    if_version: IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """Replace name, comments and config; ``fields["application_id"]``, if set, must match:
    a configuration never moves to another application."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        precondition(version, if_version, "configuration", config_id)
        await no_rollout(conn, config_id)
        assert locked is not None
        _same_application(locked[0], fields.get("application_id"))
        resource = await configurations.update(conn, config_id, fields, revision)
        return Change("updated", resource, locked[0], config_id)

    target = Target("configuration.update", "configuration", config_id)
    return (await apply(db, write, step, target)).resource


async def delete_configuration(
    db: database.Database, write: Write, config_id: str, if_version: IfMatch
) -> int:
    """Delete the configuration; returns the revision it committed."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        precondition(version, if_version, "configuration", config_id)
        await no_rollout(conn, config_id)
        gone = {**await configurations.delete(conn, config_id), "revision": revision}
        return Change("deleted", gone, gone["application_id"], config_id)

    target = Target("configuration.delete", "configuration", config_id)
    revision: int = (await apply(db, write, step, target)).resource["revision"]
    return revision
