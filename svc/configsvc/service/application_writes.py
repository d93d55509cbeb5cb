"""Creating, replacing and deleting applications: writes through ``writes.apply``.

Deleting one deletes its configurations in the same transaction (a version row each) and
cancels its running rollouts.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import preconditions, rollouts, writes, writing
from configsvc.store import applications, configurations


async def create_application(
    db: database.Database, write: writing.Write, name: str, comments: str
) -> dict[str, Any]:
    """A new application; a taken name is ``errors.Conflict``."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        access.authorize(write.caller, "*", "write", None)
        app = await applications.insert(conn, name, comments, revision)
        return writing.Change("application_created", app, app["id"])

    target = writing.Target("application.create", "application", None)
    return (await writes.apply(db, write, step, target)).resource


async def replace_application(
    db: database.Database, write: writing.Write, app_id: str, fields: dict[str, Any],
    if_version: writing.IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """Replace name and comments, if the application is still at ``if_version`` (when given)."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        missing = errors.NotFound(f"no application with id {app_id}")
        access.authorize(write.caller, app_id, "write", missing)
        preconditions.precondition(
            await applications.lock(conn, app_id), if_version, "application", app_id
        )
        app = await applications.update(conn, app_id, fields["name"], fields["comments"], revision)
        return writing.Change("application_updated", app, app_id)

    target = writing.Target("application.update", "application", app_id, app_id)
    return (await writes.apply(db, write, step, target)).resource


async def delete_application(
    db: database.Database, write: writing.Write, app_id: str, if_version: writing.IfMatch
) -> int:
    """Delete the application and, in the same transaction, its configurations; returns the
    revision it committed."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        missing = errors.NotFound(f"no application with id {app_id}")
        access.authorize(write.caller, app_id, "write", missing)
        preconditions.precondition(
            await applications.lock(conn, app_id), if_version, "application", app_id
        )
        cascade = [("deleted", c) for c in await configurations.all_of(conn, app_id)]
        await rollouts.cancel_running(conn, write, app_id, "the application was deleted", revision)
        gone = {**await applications.delete(conn, app_id), "revision": revision}
        return writing.Change("application_deleted", gone, app_id, versions=tuple(cascade))

    target = writing.Target("application.delete", "application", app_id, app_id)
    revision: int = (await writes.apply(db, write, step, target)).resource["revision"]
    return revision
