"""The fleet view: which clients run which revision of an application, and who refused it.

Both handlers resolve the application first (from the path, or from the configuration), so
that access to the application governs them like every other read under it. The rows come
from the tables every worker writes its clients to (live/clients.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.api import jsonbody, operation
from configsvc.db import database
from configsvc.live import clients as live_clients
from configsvc.store import applications, configurations
from configsvc.store import clients as store


async def _rows(request: web.Request, app_id: str) -> tuple[list[dict[str, Any]], int]:
    keep_s = request.app[settings_mod.SETTINGS].clients_keep_s
    async with request.app[database.DB].connection() as conn:
        await applications.require(conn, app_id)
        rows = await store.for_application(conn, app_id, live_clients.EXPIRY_S, keep_s)
        head = await store.head(conn, app_id)
    return rows, head


def _client(row: dict[str, Any], head: int) -> dict[str, Any]:
    results: dict[str, Any] = row.pop("results")
    applied = row["applied_revision"]
    row["lag"] = None if applied is None else max(0, head - applied)
    row["rejections"] = [
        {"configuration_id": config_id, **entry["rejected"]}
        for config_id, entry in sorted(results.items())
        if "rejected" in entry
    ]
    if row["connected"]:
        del row["disconnected_at"]
    return models.FleetClient.model_validate(row).model_dump(mode="json", exclude_unset=True)


async def list_clients(request: web.Request) -> web.Response:
    """Every client subscribed to the application on any worker, and those that left
    less than `CLIENTS_KEEP_S` ago (`connected: false`)."""
    app_id = operation.path_id(request, "application")
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    rows, head = await _rows(request, app_id)
    return jsonbody.response({"items": [_client(row, head) for row in rows]})


async def clients_summary(request: web.Request) -> web.Response:
    """Connected subscribers of the configuration's application by the version of it they
    applied or rejected; `unknown`: those that never acked it."""
    config_id = operation.path_id(request, "configuration")
    async with request.app[database.DB].connection() as conn:
        app_id = (await configurations.get(conn, config_id))["application_id"]
    operation.may_read(request, app_id, errors.NotFound(f"no configuration with id {config_id}"))
    rows, _ = await _rows(request, app_id)
    versions, rejected, unknown = Counter[str](), Counter[str](), 0
    for row in rows:
        entry = row["results"].get(config_id) if row["connected"] else None
        if row["connected"] and entry is None:
            unknown += 1
        if entry and "applied" in entry:
            versions[str(entry["applied"])] += 1
        if entry and "rejected" in entry:
            rejected[str(entry["rejected"]["version"])] += 1
    summary = {"versions": dict(versions), "rejected": dict(rejected), "unknown": unknown}
    return jsonbody.response(summary)


_APPS, _CONFIGS = f"{operation.PREFIX}/applications", f"{operation.PREFIX}/configurations"

OPERATIONS: tuple[operation.Operation, ...] = (
    operation.Operation("GET", f"{_APPS}/{{id}}/clients", list_clients,
                     "List the clients subscribed to an application", "fleet",
                     response=models.FleetClients, errors=(404,)),
    operation.Operation("GET", f"{_CONFIGS}/{{id}}/clients/summary", clients_summary,
                     "Count a configuration's clients by version", "fleet",
                     response=models.ClientsSummary, errors=(404,)),
)  # fmt: skip
