"""The one write path: every change to applications and configurations goes through :func:`apply`.

In one transaction it takes the next revision, lets the operation check its preconditions and
write, then records the change (the change-log entry and its NOTIFY, both effective only at
commit). Whatever must hold for *every* write (permission, schema, version row, audit entry)
is one edit here. A dry run walks the very same path and rolls back at the end, so it spends no
revision and wakes no listener.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.store import applications, changes, configurations


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: the token's public id and name (never its secret)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Write:
    """Who asks for a write and why; ``dry_run`` checks and applies it, then rolls it back.

    ``caller`` is what the write is checked against (None: an internal write, unchecked).
    """

    actor: Actor | None = None
    caller: access.Caller | None = None
    reason: str = ""
    request_id: str | None = None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did, as the change log records it."""

    op: str
    resource: dict[str, Any]
    application_id: str
    configuration_id: str | None = None


Step = Callable[[asyncpg.Connection, int], Awaitable[Change]]


class _RollBack(Exception):
    """Raised inside the transaction to undo a dry run; carries what it would have done."""

    def __init__(self, change: Change) -> None:
        super().__init__(change.op)
        self.change = change


async def apply(db: database.Database, write: Write, step: Step) -> Change:
    """Run ``step(conn, revision)`` as one write, in one transaction, and log its change."""
    async with db.connection() as conn:
        try:
            async with conn.transaction():
                revision = await changes.next_revision(conn)
                change = await step(conn, revision)
                await changes.record(
                    conn, revision, change.op, change.resource,
                    application_id=change.application_id,
                    configuration_id=change.configuration_id,
                    actor=None if write.actor is None else (write.actor.id, write.actor.name),
                )  # fmt: skip
                if write.dry_run:
                    raise _RollBack(change)
        except _RollBack as rolled_back:
            return rolled_back.change
    return change


def precondition(current: int | None, if_version: int | None, kind: str, id_: str) -> None:
    """NotFound when the resource is gone, PreconditionFailed when If-Match names an old version.

    ``current`` is the version locked by the write, so nobody can change it before commit.
    """
    if current is None:
        raise errors.NotFound(f"no {kind} with id {id_}")
    if if_version is not None and if_version != current:
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

    return (await apply(db, write, step)).resource


async def replace_application(
    db: database.Database, write: Write, app_id: str, fields: dict[str, Any],
    if_version: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Replace name and comments, if the application is still at ``if_version`` (when given)."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        missing = errors.NotFound(f"no application with id {app_id}")
        authorize(write, app_id, missing)
        precondition(await applications.lock(conn, app_id), if_version, "application", app_id)
        app = await applications.update(conn, app_id, fields["name"], fields["comments"], revision)
        return Change("application_updated", app, app_id)

    return (await apply(db, write, step)).resource


async def delete_application(
    db: database.Database, write: Write, app_id: str, if_version: int | None
) -> None:
    """Delete the application and, in the same transaction, its configurations."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        authorize(write, app_id, errors.NotFound(f"no application with id {app_id}"))
        precondition(await applications.lock(conn, app_id), if_version, "application", app_id)
        gone = {**await applications.delete(conn, app_id), "revision": revision}
        return Change("application_deleted", gone, app_id)

    await apply(db, write, step)


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

    return (await apply(db, write, step)).resource


def _authorize_configuration(write: Write, locked: tuple[str, int] | None, config_id: str) -> None:
    if locked is not None:
        authorize(write, locked[0], errors.NotFound(f"no configuration with id {config_id}"))


def _same_application(current: str, wanted: str | None) -> None:
    if wanted is not None and wanted != current:
        raise errors.Invalid.one("application_id", f"must be {current}, the current application")


async def replace_configuration(
    db: database.Database, write: Write, config_id: str, fields: dict[str, Any],
    if_version: int | None,
) -> dict[str, Any]:  # fmt: skip
    """Replace name, comments and config; ``fields["application_id"]``, if set, must match:
    a configuration never moves to another application."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        precondition(version, if_version, "configuration", config_id)
        assert locked is not None
        _same_application(locked[0], fields.get("application_id"))
        resource = await configurations.update(conn, config_id, fields, revision)
        return Change("updated", resource, locked[0], config_id)

    return (await apply(db, write, step)).resource


async def delete_configuration(
    db: database.Database, write: Write, config_id: str, if_version: int | None
) -> None:
    """Delete the configuration."""

    async def step(conn: asyncpg.Connection, revision: int) -> Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        precondition(version, if_version, "configuration", config_id)
        gone = {**await configurations.delete(conn, config_id), "revision": revision}
        return Change("deleted", gone, gone["application_id"], config_id)

    await apply(db, write, step)
