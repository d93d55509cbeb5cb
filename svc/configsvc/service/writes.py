"""The one write path: every change to applications, configurations, schemas and rollouts goes
through :func:`apply`.

In one transaction it takes the next revision and runs the operation's step, which authorizes
the caller (auth/access.py) and checks its preconditions (service/preconditions.py) on the rows
it locks, then writes them (store/). Then the path validates what was written against its schema
(service/schemas.py), records the change-log entry, the version rows and the audit entry
(service/records.py), and at the shared commit wakes the listeners (one NOTIFY). Whatever must
hold for *every* write is one edit here; each step imports the write's types
(service/writing.py), never this module.

A dry run walks the very same path and rolls back at the end, so it spends no revision and wakes
no listener; it never takes the revision counter's lock nor writes a log entry, so it never
waits behind (or holds up) the writes that commit.
"""

from __future__ import annotations

import logging

import asyncpg

from configsvc import errors
from configsvc.db import database
from configsvc.service import audit, previews, records, schemas, writing
from configsvc.store import changes

log = logging.getLogger(__name__)


async def apply(
    db: database.Database, write: writing.Write, step: writing.Step,
    target: writing.Target | None = None,
) -> writing.Change:  # fmt: skip
    """Run ``step(conn, revision)`` as one write, in one transaction, and log its change,
    its version rows and its audit entry. A refusal in AUDITED_REFUSALS of a write with a
    ``target`` is audited on its own, after the write's transaction has rolled back.

    A dry run raises :class:`previews.DryRun` instead of returning, and is never audited: it
    leaves the database exactly as it was."""
    try:
        if write.dry_run:
            return await _dry_run(db, write, step, target)
        return await _commit(db, write, step)
    except writing.AUDITED_REFUSALS as exc:
        if target is not None and not write.dry_run:
            await _audit_refusal(db, write, target, exc)
        raise


async def _commit(
    db: database.Database, write: writing.Write, step: writing.Step
) -> writing.Change:
    async def work(conn: asyncpg.Connection) -> tuple[tuple[int, writing.Change], int]:
        # In its own savepoint of a transaction shared with concurrent writes (db/group.py):
        # the revision taken here is rolled back with the write if it fails, so revisions
        # stay dense, and the counter's row lock, held to the shared commit, orders commits.
        revision = await changes.next_revision(conn)
        change = await schemas.validated(conn, write, await step(conn, revision))
        await records.change_log(conn, write, revision, change)
        await records.history(conn, write, revision, change)
        return (revision, change), write.size

    revision, change = await db.group.run(db.connection, work, _wake)
    # Read-your-writes: this worker's reads answer nothing older than what it committed.
    db.group.committed = max(db.group.committed, revision)
    return change


async def _wake(conn: asyncpg.Connection, done: list[tuple[int, writing.Change]]) -> None:
    """One NOTIFY per shared commit, however many writes it holds."""
    await changes.notify(conn, max(revision for revision, _ in done))


async def _dry_run(
    db: database.Database, write: writing.Write, step: writing.Step,
    target: writing.Target | None,
) -> writing.Change:  # fmt: skip
    """The write's every step in a transaction of its own, then :class:`previews.DryRun` (it
    leaves by raising: everything it did is rolled back). It peeks at the next revision instead
    of taking the counter and logs no change, so it never queues behind committing writes."""
    async with db.connection() as conn, conn.transaction():
        revision = await changes.peek_revision(conn)
        before = await previews.document_of(conn, target)
        change = await schemas.validated(conn, write, await step(conn, revision))
        await records.history(conn, write, revision, change)
        after = await previews.document_of(conn, target, change)
        raise previews.DryRun(previews.preview(change, before, after))


async def _audit_refusal(
    db: database.Database, write: writing.Write, target: writing.Target,
    exc: errors.ServiceError,
) -> None:  # fmt: skip
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
