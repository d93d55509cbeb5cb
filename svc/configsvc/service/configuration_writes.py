"""Creating, replacing and deleting configurations: writes through ``writes.apply``.

A configuration never moves to another application, and one with a running rollout changes
only through the rollout (service/rollouts.py).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import preconditions, writes, writing
from configsvc.store import configurations


async def create_configuration(
    db: database.Database, write: writing.Write, app_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """A new configuration; an unknown application is ``errors.Invalid`` on application_id."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        unknown = errors.Invalid.one("application_id", f"no application with id {app_id}")
        access.authorize(write.caller, app_id, "write", unknown)
        resource = await configurations.insert(conn, app_id, fields, revision)
        return writing.Change("created", resource, app_id, resource["id"])

    target = writing.Target("configuration.create", "configuration", None, app_id)
    return (await writes.apply(db, write, step, target)).resource


def _authorize_configuration(
    write: writing.Write, locked: tuple[str, int] | None, config_id: str
) -> None:
    if locked is not None:
        missing = errors.NotFound(f"no configuration with id {config_id}")
        access.authorize(write.caller, locked[0], "write", missing)


def _same_application(current: str, wanted: str | None) -> None:
    if wanted is not None and wanted != current:
        raise errors.Invalid.one("application_id", f"must be {current}, the current application")


async def replace_configuration(
    db: database.Database, write: writing.Write, config_id: str, fields: dict[str, Any],
    if_version: writing.IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """Replace name, comments and config; ``fields["application_id"]``, if set, must match:
    a configuration never moves to another application."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        preconditions.precondition(version, if_version, "configuration", config_id)
        await preconditions.no_rollout(conn, config_id)
        assert locked is not None
        _same_application(locked[0], fields.get("application_id"))
        resource = await configurations.update(conn, config_id, fields, revision)
        return writing.Change("updated", resource, locked[0], config_id)

    target = writing.Target("configuration.update", "configuration", config_id)
    return (await writes.apply(db, write, step, target)).resource


async def delete_configuration(
    db: database.Database, write: writing.Write, config_id: str, if_version: writing.IfMatch
) -> int:
    """Delete the configuration; returns the revision it committed."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        locked = await configurations.lock(conn, config_id)
        version = None if locked is None else locked[1]
        _authorize_configuration(write, locked, config_id)
        preconditions.precondition(version, if_version, "configuration", config_id)
        await preconditions.no_rollout(conn, config_id)
        gone = {**await configurations.delete(conn, config_id), "revision": revision}
        return writing.Change("deleted", gone, gone["application_id"], config_id)

    target = writing.Target("configuration.delete", "configuration", config_id)
    revision: int = (await writes.apply(db, write, step, target)).resource["revision"]
    return revision
