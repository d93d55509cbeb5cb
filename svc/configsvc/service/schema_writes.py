"""Putting and deleting an application's JSON Schemas: writes through ``writes.apply``.

A schema change locks the application row FOR UPDATE; a configuration write reads its schema
with that row FOR SHARE (store/schemas.py), so the two are ordered: a configuration either
commits before the schema change, which then re-checks it, or is checked against the new
schema. (Every write also holds the revision counter's row lock until it commits.)
"""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import preconditions, schemas, validators, writes, writing
from configsvc.store import applications, configurations
from configsvc.store import schemas as store

# How many errors of each configuration a 409 shows (all are kept when it is forced).
FIRST_ERRORS = 5


def _missing(app_id: str) -> errors.NotFound:
    return errors.NotFound(f"no application with id {app_id}")


def _if_match(current: dict[str, Any] | None, if_version: writing.IfMatch, name: str) -> None:
    if if_version is None:
        return
    if current is None:
        raise errors.PreconditionFailed(f"schema {name!r} does not exist")
    preconditions.precondition(current["version"], if_version, "schema", name)


async def _lock(conn: asyncpg.Connection, write: writing.Write, app_id: str) -> None:
    """Authorize, then hold the application row until commit (see the module's docstring)."""
    access.authorize(write.caller, app_id, "write", _missing(app_id))
    preconditions.precondition(await applications.lock(conn, app_id), None, "application", app_id)


async def _recheck(
    conn: asyncpg.Connection, app_id: str, name: str, validator: validators.Validator | None,
    force: bool,
) -> errors.SchemaConflict | None:  # fmt: skip
    """Check the configurations schema ``name`` covers against what covers them now
    (``validator``; None: nothing). A SchemaConflict listing those that fail, unless ``force``:
    then their standing is recorded as invalid, with their errors."""
    own = (await store.all_of(conn, app_id)).keys() - {store.DEFAULT}
    covered = [
        c for c in await configurations.all_of(conn, app_id)
        if c["name"] == name or (name == store.DEFAULT and c["name"] not in own)
    ]  # fmt: skip
    failing, changed = [], []
    for config in covered:
        found = None if validator is None else schemas.violations(validator, config["config"])
        if found:
            failing.append({"id": config["id"], "name": config["name"], "errors": found})
        now, stored = schemas.status(found)
        if (now, stored) != (config["schema_status"], config["schema_errors"] or None):
            changed.append((config["id"], now, stored))
    if failing and not force:
        return errors.SchemaConflict([{**c, "errors": c["errors"][:FIRST_ERRORS]} for c in failing])
    await store.set_status(conn, changed)
    return None


async def put(
    db: database.Database, write: writing.Write, app_id: str, name: str, body: dict[str, Any],
    if_version: writing.IfMatch, force: bool,
) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """Store the schema of configuration ``name`` (``*``: the default); (it, whether it is new).

    SchemaInvalid if it is not a valid local draft 2020-12 schema; SchemaConflict if a current
    configuration fails it, unless ``force``."""
    validator = schemas.compile_checked(body)

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        await _lock(conn, write, app_id)
        current = await store.lock(conn, app_id, name)
        _if_match(current, if_version, name)
        if current is None:
            resource, op = await store.insert(conn, app_id, name, body, revision), "created"
        else:
            resource, op = await store.update(conn, current["id"], body, revision), "updated"
        conflict = await _recheck(conn, app_id, name, validator, force)
        return writing.Change(f"schema_{op}", resource, app_id, invalid=conflict)

    target = writing.Target("schema.put", "schema", name, app_id)
    change = await writes.apply(db, write, step, target)
    return change.resource, change.op == "schema_created"


async def delete(
    db: database.Database, write: writing.Write, app_id: str, name: str,
    if_version: writing.IfMatch, force: bool,
) -> int:  # fmt: skip
    """Delete the schema; its configurations fall back to ``*`` (checked like a change), or to
    none. Returns the revision it committed."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        await _lock(conn, write, app_id)
        current = await store.lock(conn, app_id, name)
        if current is None:
            raise errors.NotFound(f"application {app_id} has no schema named {name!r}")
        _if_match(current, if_version, name)
        gone = {**await store.delete(conn, current["id"]), "revision": revision}
        fallback = None if name == store.DEFAULT else await store.lock(conn, app_id, store.DEFAULT)
        validator = None
        if fallback is not None:
            key = (fallback["id"], fallback["version"])
            validator = await schemas.validator(conn, write.validators, key)
        conflict = await _recheck(conn, app_id, name, validator, force)
        return writing.Change("schema_deleted", gone, app_id, invalid=conflict)

    change = await writes.apply(
        db, write, step, writing.Target("schema.delete", "schema", name, app_id)
    )
    return int(change.resource["revision"])
