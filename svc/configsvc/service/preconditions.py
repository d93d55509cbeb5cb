"""What must hold before a write changes anything: its target exists and is still at the
version If-Match names, and no rollout is delivering it.

The operations' steps check these inside the write's transaction, on the rows they have locked,
so nothing can change them before the commit.
"""

from __future__ import annotations

import asyncpg

from configsvc import errors
from configsvc.service import writing
from configsvc.store import rollouts


def precondition(current: int | None, if_version: writing.IfMatch, kind: str, id_: str) -> None:
    """NotFound when the resource is gone, PreconditionFailed when If-Match names an old version.

    ``current`` is the version locked by the write, so nobody can change it before commit.
    """
    if current is None:
        raise errors.NotFound(f"no {kind} with id {id_}")
    wanted = {if_version} if isinstance(if_version, int) else if_version
    if wanted is not None and current not in wanted:
        raise errors.PreconditionFailed(f"{kind} {id_} has changed since that version")


async def no_rollout(conn: asyncpg.Connection, config_id: str) -> None:
    """A configuration with a running rollout changes only through it (promote or abort)."""
    running = await rollouts.running_of(conn, config_id)
    if running is not None:
        raise errors.Conflict(
            f"configuration {config_id} has a running rollout {running['id']}: promote or "
            "abort it first", field="rollout",
        )  # fmt: skip
