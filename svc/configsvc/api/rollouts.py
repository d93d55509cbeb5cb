"""Progressive delivery under /api/v1/configurations/{id}/rollouts (service/rollouts.py).

Start a rollout (write on the application, If-Match the configuration's current version), read
one or a page of them (newest first), promote one (its next step now) or abort it (back to the
base). ``clients`` counts the connected subscribers the rollout targets, from the fleet tables
every worker refreshes about once a second (live/clients.py); rejections are counted as they
arrive, so ``clients.rejected`` is exact.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.api import bodies, dryrun, jsonbody, operation, paging
from configsvc.db import database
from configsvc.live import clients as live_clients
from configsvc.ops import metrics
from configsvc.service import previews, rollouts, writing
from configsvc.store import clients, configurations
from configsvc.store import rollouts as store


async def _readable(request: web.Request, conn: database.Connection, config_id: str) -> None:
    missing = errors.NotFound(f"no configuration with id {config_id}")
    app_id = (await configurations.get(conn, config_id))["application_id"]
    operation.may_read(request, app_id, missing)


def _reach(rows: list[dict[str, Any]], row: Any, percent: int) -> list[dict[str, Any]]:
    return [
        each for each in rows
        if each["connected"] and store.targeted(row["id"], percent, row["labels"],
                                                each["client_id"], each["labels"])
    ]  # fmt: skip


async def _fleet(request: web.Request, conn: database.Connection,
                 app_id: str) -> list[dict[str, Any]]:  # fmt: skip
    keep_s = request.app[settings_mod.SETTINGS].clients_keep_s
    return await clients.for_application(conn, app_id, live_clients.EXPIRY_S, keep_s)


async def _shown(request: web.Request, conn: database.Connection, row: Any) -> dict[str, Any]:
    """The resource with its counts: targeted subscribers by what they acked of the candidate
    (the fleet is read only for a running rollout: an ended one targets nobody)."""
    reached = []
    if row["state"] == "running":
        fleet = await _fleet(request, conn, row["application_id"])
        reached = _reach(fleet, row, row["steps"][row["step"]]["percent"])
    candidate = row["base_version"] + 1
    applied = sum(
        1 for each in reached
        if (each["results"].get(row["configuration_id"]) or {}).get("applied") == candidate
    )  # fmt: skip
    rejected = await store.rejected(conn, row["id"])
    counts = {"targeted": len(reached), "applied": applied, "rejected": rejected,
              "unknown": max(0, len(reached) - applied - rejected)}  # fmt: skip
    return {**store.resource(row), "clients": counts,
            "rejections": await store.rejections(conn, row["id"])}  # fmt: skip


async def _one(request: web.Request, conn: database.Connection, config_id: str,
               rollout_id: str) -> dict[str, Any]:  # fmt: skip
    row = await store.get(conn, config_id, rollout_id)
    if row is None:
        raise errors.NotFound(f"no rollout {rollout_id} of configuration {config_id}")
    return await _shown(request, conn, row)


async def _answer(request: web.Request, config_id: str, rollout_id: str,
                  status: int = 200) -> web.Response:  # fmt: skip
    async with request.app[database.DB].connection() as conn:
        shown = await _one(request, conn, config_id, rollout_id)
    response = jsonbody.response(shown, status=status)
    if status == 201:
        response.headers["Location"] = f"{_ROLLOUTS.format(id=config_id)}/{rollout_id}"
    return response


def _write(request: web.Request, reason: str) -> writing.Write:
    return replace(operation.write_of(request), reason=reason)


async def start_rollout(request: web.Request) -> web.Response:
    """A running rollout at its first step: `If-Match` must name the configuration's current
    version; the candidate must satisfy the configuration's JSON Schema."""
    config_id = operation.path_id(request, "configuration")
    body = await bodies.body(request, models.RolloutIn)
    if_match = bodies.if_match(request)
    data = body.model_dump()
    write = _write(request, body.reason)
    try:
        made = await rollouts.start(request.app[database.DB], write, config_id, data, if_match)
    except previews.DryRun as done:
        return await _dry_answer(request, done, data)
    return await _answer(request, config_id, made["id"], 201)


async def _dry_answer(request: web.Request, done: previews.DryRun,
                      data: dict[str, Any]) -> web.Response:  # fmt: skip
    """Answered as other dry runs are, plus ``reach``: the connected clients step 1 reaches;
    and what the promotion would write, with the real start's status (the preview itself is of
    the configuration, which starting leaves unchanged)."""
    rollout, base = done.preview.resource["rollout"], done.preview.resource["base"]
    async with request.app[database.DB].connection() as conn:
        fleet = await _fleet(request, conn, done.preview.application_id)
    row = {"id": rollout["id"], "labels": data["labels"]}
    return await dryrun.answer(
        request, done.preview, status=201, would_be_version=base["version"] + 1,
        patch=previews.json_patch(base["config"], data["config"]),
        reach=len(_reach(fleet, row, data["steps"][0]["percent"])),
    )  # fmt: skip


async def list_rollouts(request: web.Request) -> web.Response:
    """The configuration's rollouts, newest first."""
    config_id = operation.path_id(request, "configuration")
    limit, after = bodies.limit(request), paging.cursor(request)
    async with request.app[database.DB].connection() as conn:
        await _readable(request, conn, config_id)
        rows = await store.page(conn, config_id, after, limit + 1)
        items = [await _shown(request, conn, row) for row in rows[:limit]]
    return paging.page(items, len(rows) > limit)


async def get_rollout(request: web.Request) -> web.Response:
    config_id = operation.path_id(request, "configuration")
    rollout_id = operation.path_id(request, "rollout", "rollout_id")
    async with request.app[database.DB].connection() as conn:
        await _readable(request, conn, config_id)
        shown = await _one(request, conn, config_id, rollout_id)
    return jsonbody.response(shown)


async def promote_rollout(request: web.Request) -> web.Response:
    """To the next step now; at the last step the candidate becomes the configuration's new
    version. An ended rollout is a 409."""
    config_id = operation.path_id(request, "configuration")
    rollout_id = operation.path_id(request, "rollout", "rollout_id")
    body = await bodies.body(request, models.RolloutReasonIn)
    state = await rollouts.promote(request.app[database.DB], _write(request, body.reason),
                                   config_id, rollout_id)  # fmt: skip
    if state == "aborted":  # the schema changed under it (service/rollouts.py)
        metrics.ROLLOUT_ABORTS.inc()
    return await _answer(request, config_id, rollout_id)


async def abort_rollout(request: web.Request) -> web.Response:
    """Back to the base version: targeted subscribers get it as a change frame. An ended
    rollout is a 409."""
    config_id = operation.path_id(request, "configuration")
    rollout_id = operation.path_id(request, "rollout", "rollout_id")
    body = await bodies.body(request, models.RolloutReasonIn)
    await rollouts.abort(request.app[database.DB], _write(request, body.reason), config_id,
                         rollout_id, f"aborted: {body.reason}")  # fmt: skip
    metrics.ROLLOUT_ABORTS.inc()
    return await _answer(request, config_id, rollout_id)


_ROLLOUTS = f"{operation.PREFIX}/configurations/{{id}}/rollouts"
_ONE = f"{_ROLLOUTS}/{{rollout_id}}"

OPERATIONS: tuple[operation.Operation, ...] = (
    operation.Operation("POST", _ROLLOUTS, start_rollout, "Start a rollout", "rollouts", 201,
                     models.RolloutIn, models.Rollout, query=("dry_run",),
                     errors=(400, 404, 409, 412, 413, 415, 422), headers=("If-Match",),
                     needs="write", dry_run=True),
    operation.Operation("GET", _ROLLOUTS, list_rollouts, "List a configuration's rollouts",
                     "rollouts", response=models.RolloutPage, query=("limit", "cursor"),
                     errors=(404, 422)),
    operation.Operation("GET", _ONE, get_rollout, "Read a rollout", "rollouts",
                     response=models.Rollout, query=("rollout_id",), errors=(404,)),
    operation.Operation("POST", f"{_ONE}/promote", promote_rollout, "Promote a rollout",
                     "rollouts", 200, models.RolloutReasonIn, models.Rollout,
                     query=("rollout_id",),
                     errors=(400, 404, 409, 413, 415, 422), needs="write"),
    operation.Operation("POST", f"{_ONE}/abort", abort_rollout, "Abort a rollout", "rollouts",
                     200, models.RolloutReasonIn, models.Rollout, query=("rollout_id",),
                     errors=(400, 404, 409, 413, 415, 422), needs="write"),
)  # fmt: skip
