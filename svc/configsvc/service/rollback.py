"""Going back: a configuration to one of its versions, an application to a past revision.

Both are ordinary writes through ``writes.apply`` (one transaction, one revision, version rows,
audit entry, change log), so whatever the write path enforces applies to them too.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import preconditions, rollouts, writes, writing
from configsvc.store import applications, configurations, versions

_FIELDS = ("name", "comments", "config")


def _fields(version: dict[str, Any]) -> dict[str, Any]:
    return {key: version[key] for key in _FIELDS}


async def configuration(
    db: database.Database, write: writing.Write, config_id: str, to_version: int,
    if_version: writing.IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """A new version equal to ``to_version`` (name, comments, config); a deleted configuration
    comes back with its id (op ``restored``). Gone if that version was pruned."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        locked = await configurations.lock(conn, config_id)
        owner = locked[0] if locked else await versions.application_of(conn, config_id)
        missing = errors.NotFound(f"no configuration with id {config_id}")
        access.authorize(write.caller, owner, "write", missing)
        target = await versions.configuration_version(conn, config_id, to_version)
        if target["op"] == "deleted":
            raise errors.Invalid.one("to_version", f"version {to_version} is a deletion")
        app_id, fields = target["application_id"], _fields(target)
        if locked is None:
            newest = await versions.newest(conn, config_id)
            preconditions.precondition(newest, if_version, "configuration", config_id)
            assert newest is not None
            back = await configurations.restore(
                conn, config_id, app_id, fields, newest + 1, revision
            )
            return writing.Change("restored", back, app_id, config_id, action=_ACTION)
        preconditions.precondition(locked[1], if_version, "configuration", config_id)
        await preconditions.no_rollout(conn, config_id)
        resource = await configurations.update(conn, config_id, fields, revision)
        return writing.Change("updated", resource, app_id, config_id, action=_ACTION)

    target = writing.Target(_ACTION, "configuration", config_id)
    return (await writes.apply(db, write, step, target)).resource


_ACTION = "configuration.rollback"


def _differs(now: dict[str, Any], then: dict[str, Any]) -> bool:
    return any(now[key] != then[key] for key in _FIELDS)


async def _go_back(
    conn: asyncpg.Connection, app_id: str, past: dict[str, dict[str, Any]], revision: int,
    resend: set[str],
) -> list[tuple[str, dict[str, Any]]]:  # fmt: skip
    """Make the application's configurations equal ``past``; the (op, resource) of each move.
    Those in ``resend`` get a new version even when equal: clients may hold a cancelled
    rollout's candidate, and only a change frame takes them off it."""
    now = {c["id"]: c for c in await configurations.all_of(conn, app_id)}
    moves = [("deleted", await configurations.delete(conn, cid)) for cid in now if cid not in past]
    changed = [
        cid for cid in now if cid in past and (cid in resend or _differs(now[cid], past[cid]))
    ]
    for cid in changed:
        if now[cid]["name"] != past[cid]["name"]:
            await configurations.park(conn, cid)  # names may swap
    for cid in changed:
        updated = await configurations.update(conn, cid, _fields(past[cid]), revision)
        moves.append(("updated", updated))
    for cid in sorted(past.keys() - now.keys()):
        newest = await versions.newest(conn, cid)
        assert newest is not None  # it has a past, so it has history
        fields = _fields(past[cid])
        back = await configurations.restore(conn, cid, app_id, fields, newest + 1, revision)
        moves.append(("restored", back))
    return moves


async def _existed(conn: asyncpg.Connection, app_id: str, to_revision: int) -> None:
    """Invalid (on ``to_revision``, naming the ``first_revision``) when the application did
    not exist yet at ``to_revision``: going back there deletes every configuration it has."""
    first = await versions.created_revision(conn, app_id)
    if first is not None and to_revision < first:
        raise errors.Invalid.one(
            "to_revision",
            f"the application was created at revision {first}: at {to_revision} it did not "
            f"exist, and going back there deletes every configuration; roll back to {first} "
            'or later, or send "empty_ok": true to empty it',
            extra={"first_revision": first},
        )


async def application(
    db: database.Database, write: writing.Write, app_id: str, to_revision: int,
    empty_ok: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Every configuration of the application as it was at ``to_revision``, in ONE revision:
    one change-log entry (op ``rolled_back``), so subscribers see it as one step. A revision
    from before the application existed is refused unless ``empty_ok``.

    Returns ``{"revision", "configurations": [changed or restored], "deleted": [ids]}``.
    """

    made: list[int] = []

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        made.append(revision)
        preconditions.precondition(
            await applications.lock(conn, app_id), None, "application", app_id
        )
        missing = errors.NotFound(f"no application with id {app_id}")
        access.authorize(write.caller, app_id, "write", missing)
        then = await versions.state_at(conn, app_id, to_revision, "to_revision")
        if not empty_ok:
            await _existed(conn, app_id, to_revision)
        why = f"the application was rolled back to revision {to_revision}"
        resend = await rollouts.cancel_running(conn, write, app_id, why, revision)
        moves = await _go_back(conn, app_id, {c["id"]: c for c in then}, revision, resend)
        resource = {
            "configurations": [r for op, r in moves if op != "deleted"],
            "deleted": [r["id"] for op, r in moves if op == "deleted"],
        }
        return writing.Change("rolled_back", resource, app_id, versions=tuple(moves))

    target = writing.Target("application.rollback", "application", app_id, app_id)
    change = await writes.apply(db, write, step, target)
    return {"revision": made[-1], **change.resource}
