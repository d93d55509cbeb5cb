"""What a subscription needs to go live, read in one transaction and sent after it ends.

Everything is read first (one REPEATABLE READ, read-only transaction: the counter and the rows
come from the same snapshot, so what is sent holds exactly the changes up to the revision it
names), the connection goes back to the pool, and only then is anything written to the
socket: a client that does not read never holds a database connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from configsvc_contract import exactjson

from configsvc.live import hub, peer, rollfeed
from configsvc.store import applications, changes, configurations, rollouts


@dataclass(frozen=True, slots=True)
class Sync:
    """The frames that bring a subscriber up to ``revision``, in order."""

    revision: int
    frames: list[str]


def _frame(message: dict[str, Any]) -> str:
    # Not ASCII-escaped: the stored text goes out as it is, and is valid UTF-8.
    return exactjson.dumps(message)  # numbers exactly as stored


async def read(
    conn: asyncpg.Connection, app_id: str, since: int | None, budget: int,
    since_entry_id: str | None = None, to: peer.Peer | None = None,
) -> Sync:  # fmt: skip
    """The catch-up from ``since`` if the log holds it, it is this history's (the entry at
    ``since`` is ``since_entry_id``, when given) and it fits in ``budget`` bytes; else a
    snapshot (``reset`` when ``since`` was given)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        latest, pruned_through = await changes.counter(conn)
        await applications.require(conn, app_id)  # unknown, or deleted meanwhile
        head_id = await changes.identity(conn, latest) if latest else None
        if (
            since is not None and pruned_through <= since <= latest
            and await _same_history(conn, since, since_entry_id)
        ):  # fmt: skip
            missed = await _catch_up(conn, app_id, since, latest, budget, to)
            if missed is not None:
                synced = {"type": "synced", "application_id": app_id, "revision": latest,
                          "entry_id": head_id}  # fmt: skip
                return Sync(latest, [*missed, _frame(synced)])
        configs = await configurations.all_of(conn, app_id)
        # A rollout's targeted subscriber holds its candidate (live/rollfeed.py).
        rollfeed.in_snapshot(configs, await rollouts.running_in(conn, app_id), to)
        snapshot: dict[str, Any] = {
            "type": "snapshot",
            "application_id": app_id,
            "revision": latest,
            "entry_id": head_id,
            "configurations": configs,
        }
        # Older than the log, from another database's history, holding a change this release
        # cannot read, or more than the socket may buffer: start over.
        if since is not None:
            snapshot["reset"] = True
        return Sync(latest, [_frame(snapshot)])


async def _same_history(conn: asyncpg.Connection, since: int, since_entry_id: str | None) -> bool:
    """Whether the client's ``since`` is a revision of this database's history: the entry it
    saw there is the one logged there (after a failover, the same revision may be another
    change). A client that sends no id cannot be checked (older clients)."""
    if since_entry_id is None or since == 0:
        return True
    return await changes.identity(conn, since) == since_entry_id.lower()


async def _catch_up(
    conn: asyncpg.Connection,
    app_id: str,
    since: int,
    until: int,
    budget: int,
    to: peer.Peer | None = None,
) -> list[str] | None:
    """The change frames in (since, until], or None once they pass ``budget`` characters
    or hold an op this release does not know."""
    missed: list[str] = []
    size, after = 0, since
    while batch := await changes.after_for_application(conn, app_id, after, until):
        for entry in batch:
            if entry.op == "rollout":
                text = None if to is None else rollfeed.frame_for(entry, to)
                if text is not None:
                    missed.append(text)
                continue
            if entry.op not in hub.RESOURCE_KEYS:
                return None  # written by a newer release: only a snapshot can be trusted
            if entry.op not in hub.SILENT_OPS:
                missed.append(hub.change_frame(entry))
                size += len(missed[-1])
                if size > budget:
                    return None
        after = batch[-1].revision
    return missed
