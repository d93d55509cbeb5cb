"""Pruning the change log: every PRUNE_INTERVAL_S, in every worker (any of them may do it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import database
from configsvc.ops import outage
from configsvc.store import audit, changes, schemas, sessions, versions

log = logging.getLogger(__name__)


async def _prune(db: database.Database, settings: settings_mod.Settings) -> None:
    """Every PRUNE_INTERVAL_S, drop log entries older than the retention (any worker may).

    A failure is logged and tried again at the next interval: an outage as one line when it
    starts and one when it ends, anything else with its traceback.
    """
    down = outage.Outage(log, "change log pruner")
    while True:
        await asyncio.sleep(settings.prune_interval_s)
        try:
            async with db.connection() as conn:
                await changes.prune(conn, settings.change_retention_days * 86400)
                await _prune_history(conn, settings)
        except errors.Unavailable as exc:
            down.failed(exc)
        except Exception:
            log.exception("pruning failed; trying again in %s s", settings.prune_interval_s)
        else:
            down.ok()


async def _prune_history(conn: asyncpg.Connection, settings: settings_mod.Settings) -> None:
    """Versions past both bounds (age and count) audit entries past their age, ended sessions."""
    older_than_s = settings.history_retention_days * 86400
    await versions.prune(conn, older_than_s, settings.history_keep_versions)
    await schemas.prune(conn, older_than_s, settings.history_keep_versions)
    await audit.prune(conn, settings.audit_retention_days * 86400)
    await sessions.prune(conn)


async def pruner_ctx(app: web.Application) -> AsyncIterator[None]:
    """The pruner of this worker, cancelled and awaited at cleanup."""
    task = asyncio.create_task(
        _prune(app[database.DB], app[settings_mod.SETTINGS]), name="change log pruner"
    )
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
