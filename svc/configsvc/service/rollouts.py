"""Progressive delivery: a candidate reaches a deterministic share of the fleet first.

Who is targeted is a pure function (:func:`targeted`) of the rollout and what a client said in
its ``hello``, so every worker agrees without asking anyone, and a client keeps its place across
steps (its hash does not change, the share only grows) and reconnects. Every state change is a
write through service/writes.py: started and stepped rollouts and aborts are change-log
entries of op ``rollout`` (live/rollfeed.py turns each into frames for the subscribers whose
place it changes); a promotion is the configuration's ordinary ``updated`` write. The state
lives in PostgreSQL; any worker's scheduler (ops/rollouts.py) advances one whose hold is over.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import asyncpg

from configsvc import errors
from configsvc.auth import access
from configsvc.db import database
from configsvc.service import audit, preconditions, schemas, writes, writing
from configsvc.store import configurations, resources
from configsvc.store import rollouts as store

log = logging.getLogger(__name__)


def entry(row: Mapping[str, Any], base: dict[str, Any], previous: int) -> dict[str, Any]:
    """The change-log resource of a rollout's state change: who it takes in (``percent``) or
    lets go (``state`` aborted), after ``previous`` percent, and both documents."""
    return {
        "rollout": {
            "id": row["id"], "step": row["step"], "state": row["state"],
            "percent": row["steps"][row["step"]]["percent"], "previous": previous,
            "labels": row["labels"],
        },
        "base": base,
        "candidate": store.candidate_of(row, base),
    }  # fmt: skip


def check_steps(steps: list[dict[str, Any]]) -> None:
    """Percents strictly increasing, the last one 100 (ranges are checked by the model)."""
    problems = [
        (f"steps.{i}.percent", f"must be above {steps[i - 1]['percent']}, the step before")
        for i in range(1, len(steps))
        if steps[i]["percent"] <= steps[i - 1]["percent"]
    ]
    if steps and steps[-1]["percent"] != 100:
        problems.append((f"steps.{len(steps) - 1}.percent", "the last step must be 100"))
    if problems:
        raise errors.Invalid(problems)


async def cancel_running(
    conn: asyncpg.Connection, write: writing.Write, app_id: str, why: str, revision: int
) -> set[str]:
    """End the application's running rollouts (it is deleted, or rolled back as a whole, which
    outranks them), each in the audit trail; the configurations they were delivering."""
    cancelled = await store.cancel_in(conn, app_id, why)
    for row in cancelled:
        await audit.record(conn, write, "rollout.cancel", "rollout", row["id"], app_id,
                           revision=revision)  # fmt: skip
    return {row["configuration_id"] for row in cancelled}


async def _candidate_valid(conn: asyncpg.Connection, write: writing.Write, base: dict[str, Any],
                           config: dict[str, Any]) -> None:  # fmt: skip
    found = await schemas.standing(conn, write.validators, {**base, "config": config})
    if found:
        raise errors.SchemaInvalid(found)


async def start(
    db: database.Database, write: writing.Write, config_id: str, body: dict[str, Any],
    if_version: writing.IfMatch,
) -> dict[str, Any]:  # fmt: skip
    """A running rollout of ``body["config"]`` at its first step (write on the application,
    If-Match the configuration's current version, the candidate valid by its schema)."""
    check_steps(body["steps"])
    rollout_id = resources.new_id()

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        locked = await configurations.lock(conn, config_id)
        missing = errors.NotFound(f"no configuration with id {config_id}")
        if locked is None:
            raise missing
        access.authorize(write.caller, locked[0], "write", missing)
        if if_version is None:  # after authorize: who may not write learns nothing more
            raise errors.Invalid.one("If-Match", "required: the configuration's current ETag")
        preconditions.precondition(locked[1], if_version, "configuration", config_id)
        base = await configurations.get(conn, config_id)
        await _candidate_valid(conn, write, base, body["config"])
        row = await store.insert(conn, rollout_id, base, body)
        return writing.Change("rollout", entry(row, base, 0), base["application_id"], config_id,
                             action="rollout.start")  # fmt: skip

    # A dry run previews the configuration: a rollout changes it only when promoted.
    target = writing.Target("rollout.start", "configuration", config_id)
    change = await writes.apply(db, write, step, target)
    return {"id": change.resource["rollout"]["id"]}


async def _locked(conn: asyncpg.Connection, write: writing.Write, config_id: str,
                  rollout_id: str) -> asyncpg.Record:  # fmt: skip
    row = await store.lock(conn, rollout_id)
    missing = errors.NotFound(f"no rollout {rollout_id} of configuration {config_id}")
    if row is None or row["configuration_id"] != config_id:
        # Refused as its caller deserves first: only who may write learns it does not exist.
        config = await configurations.lock(conn, config_id)
        if config is not None:
            access.authorize(write.caller, config[0], "write", missing)
        raise missing
    access.authorize(write.caller, row["application_id"], "write", missing)
    if row["state"] != "running":
        raise errors.Conflict(f"rollout {rollout_id} has ended ({row['state']})", field="state")
    return row


async def _advance(conn: asyncpg.Connection, write: writing.Write, row: asyncpg.Record,
                   revision: int) -> writing.Change:  # fmt: skip
    """To the next step, or at the last one, the candidate becomes the configuration's new
    version (an ordinary ``updated`` write: version row, schema check, audit, change frame)."""
    config_id, app_id = row["configuration_id"], row["application_id"]
    last = len(row["steps"]) - 1
    if row["step"] < last:
        previous = row["steps"][row["step"]]["percent"]
        moved = await store.move(conn, row["id"], row["step"] + 1,
                                 float(row["steps"][row["step"] + 1]["hold_s"]))  # fmt: skip
        base = await configurations.get(conn, config_id)
        return writing.Change("rollout", entry(moved, base, previous), app_id, config_id,
                             action="rollout.advance")  # fmt: skip
    base = await configurations.get(conn, config_id)
    promoted = store.candidate_of(row, base)
    found = await schemas.standing(conn, write.validators, promoted)
    if found:  # the schema changed under the rollout: promoting would write an invalid version
        why = f"the candidate no longer satisfies the configuration's schema: {found[0]}"
        ended = await store.end(conn, row["id"], "aborted", why[:1000])
        return writing.Change("rollout", entry(ended, base, row["steps"][row["step"]]["percent"]),
                             app_id, config_id, action="rollout.abort")  # fmt: skip
    fields = {"name": base["name"], "comments": promoted["comments"], "config": promoted["config"]}
    resource = await configurations.update(conn, config_id, fields, revision)
    await store.end(conn, row["id"], "promoted", write.reason or "promoted after the last step")
    await audit.record(conn, write, "rollout.promote", "rollout", row["id"], app_id,
                       revision=revision)  # fmt: skip
    return writing.Change("updated", resource, app_id, config_id)


async def promote(db: database.Database, write: writing.Write, config_id: str,
                  rollout_id: str) -> str:  # fmt: skip
    """The next step now; at the last step, the promotion. Returns the state reached."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        return await _advance(conn, write, await _locked(conn, write, config_id, rollout_id),
                              revision)  # fmt: skip

    change = await writes.apply(db, write, step, writing.Target("rollout.promote", "rollout",
                                                               rollout_id))  # fmt: skip
    return "promoted" if change.op == "updated" else str(change.resource["rollout"]["state"])


async def abort(db: database.Database, write: writing.Write, config_id: str,
                rollout_id: str, why: str) -> None:  # fmt: skip
    """Back to the base: every targeted subscriber gets the base version as a change frame."""

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        row = await _locked(conn, write, config_id, rollout_id)
        ended = await store.end(conn, rollout_id, "aborted", why)
        previous = row["steps"][row["step"]]["percent"]
        base = await configurations.get(conn, config_id)
        return writing.Change("rollout", entry(ended, base, previous), row["application_id"],
                             config_id, action="rollout.abort")  # fmt: skip

    await writes.apply(db, write, step, writing.Target("rollout.abort", "rollout", rollout_id))


async def rejected(
    db: database.Database, app_id: str, config_id: str, version: int, client_id: str | None,
    labels: Mapping[str, str], key: str, reason: str | None,
) -> bool:  # fmt: skip
    """A client rejected ``version`` of a configuration: if it is the candidate of a running
    rollout that targets the client, count it; at ``abort_on.rejected`` clients, abort."""
    async with db.connection() as conn:
        row = await store.running_of(conn, config_id)
        if (
            row is None or row["application_id"] != app_id
            or version != row["base_version"] + 1
            or not store.targeted(row["id"], row["steps"][row["step"]]["percent"], row["labels"],
                            client_id, labels)
        ):  # fmt: skip
            return False
        count = await store.reject(conn, row["id"], key, client_id, reason)
    if count >= row["abort_on"]["rejected"]:
        why = (
            f"{count} client(s) rejected the candidate (abort_on.rejected is "
            f"{row['abort_on']['rejected']}): {client_id or key}: {reason or 'no reason given'}"
        )
        try:
            await abort(db, writing.Write(reason=why[:1000]), config_id, row["id"], why[:1000])
        except errors.Conflict:
            return False  # it ended meanwhile (another rejection aborted it first)
        return True
    return False


async def as_seen_by(
    db: database.Database, config_id: str, app_id: str, client_id: str
) -> dict[str, Any] | None:
    """The candidate, if a running rollout of the configuration targets this client (by the
    labels of its latest hello); None: it reads the base like everyone else."""
    async with db.connection() as conn:
        row = await store.running_of(conn, config_id)
        if row is None:
            return None
        labels = await store.labels_of(conn, app_id, client_id)
        percent = row["steps"][row["step"]]["percent"]
        if not store.targeted(row["id"], percent, row["labels"], client_id, labels):
            return None
        base = await configurations.get(conn, config_id)
    return store.candidate_of(row, base) if base["version"] == row["base_version"] else None


async def advance_due(db: database.Database) -> str | None:
    """Advance one rollout whose hold is over, if any (and no other worker has it locked);
    returns the state it reached."""
    write = writing.Write(reason="the step's hold passed with no abort")

    class _NothingDue(Exception):
        pass

    async def step(conn: asyncpg.Connection, revision: int) -> writing.Change:
        row = await store.due(conn)
        if row is None:
            raise _NothingDue
        return await _advance(conn, write, row, revision)

    try:
        change = await writes.apply(db, write, step)
    except _NothingDue:
        return None
    return "promoted" if change.op == "updated" else str(change.resource["rollout"]["state"])
