"""History, diff, rollback and audit under /api/v1: handlers and their operations.

Reads call the stores (store/versions.py, store/audit.py) directly; both rollbacks go through
the one write path (service/rollback.py on ``writes.apply``).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, jsonbody, operation, reads
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.service import audit as audit_service
from configsvc.service import previews, rollback
from configsvc.store import applications, audit, versions

_NUMBER = re.compile(r"^[0-9]{1,18}$")
INT4_MAX = 2**31 - 1


def _number(raw: str | None, name: str, maximum: int = 2**63 - 1, minimum: int = 0) -> int:
    """A non-negative integer query parameter, or 422 naming it."""
    if raw is None or not _NUMBER.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise errors.Invalid.one(name, f"must be an integer from {minimum} to {maximum}")
    return int(raw)


def _storable(text: str) -> bool:
    """PostgreSQL text holds neither U+0000 nor a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeError:
        return False
    return "\x00" not in text


def _encode_cursor(below: int) -> str:
    return base64.urlsafe_b64encode(str(below).encode()).decode().rstrip("=")


def decode_cursor(request: web.Request, default: int) -> int:
    """Show rows below this number; a cursor this API did not make is a 422."""
    raw = request.query.get("cursor")
    if raw is None:
        return default
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not _NUMBER.fullmatch(text):
        raise errors.Invalid.one("cursor", "is not a cursor this API returned")
    return int(text)


def page_of(items: list[dict[str, Any]], limit: int, key: str) -> web.Response:
    """One more row than asked for was fetched: its presence means there is a next page."""
    more = len(items) > limit
    items = items[:limit]
    cursor = _encode_cursor(items[-1][key]) if more else None
    return jsonbody.response({"items": items, "next_cursor": cursor})


def _version_in_path(request: web.Request) -> int:
    raw = request.match_info["version"]
    if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= INT4_MAX:
        raise errors.NotFound(f"no version {raw[:40]}")
    return int(raw)


# --- versions and diff -----------------------------------------------------------------------


async def _may_read_configuration(
    request: web.Request, conn: database.Connection, config_id: str
) -> None:
    """Refuse, as if it never existed, a configuration whose application the caller may not read."""
    app_id = await versions.application_of(conn, config_id)
    operation.may_read(request, app_id, errors.NotFound(f"no configuration with id {config_id}"))


async def list_configuration_versions(request: web.Request) -> web.Response:
    """Newest first, including its deletion and restorations; works for a deleted configuration
    (404 only for an id that never existed)."""
    config_id = operation.path_id(request, "configuration")
    limit, below = bodies.limit(request), decode_cursor(request, INT4_MAX)
    async with request.app[database.DB].connection() as conn:
        await _may_read_configuration(request, conn, config_id)
        items = await versions.configuration_page(conn, config_id, below, limit + 1)
    return page_of(items, limit, "version")


async def get_configuration_version(request: web.Request) -> web.Response:
    """One version; 410 once history has pruned it. Its `ETag` is the one the configuration had
    at that version."""
    config_id = operation.path_id(request, "configuration")
    number = _version_in_path(request)
    async with request.app[database.DB].connection() as conn:
        await _may_read_configuration(request, conn, config_id)
        found = await versions.configuration_version(conn, config_id, number)
    return reads.resource_response(found)


def _field_change(old: dict[str, Any], new: dict[str, Any], key: str) -> dict[str, str] | None:
    return None if old[key] == new[key] else {"from": old[key], "to": new[key]}


async def diff_configuration(request: web.Request) -> web.Response:
    """`{"from", "to", "patch", "name", "comments"}`: `patch` is an RFC 6902 JSON Patch taking
    version `from`'s config to version `to`'s; `name` and `comments` are `{"from", "to"}` when
    they differ, else null. 410 if either version was pruned."""
    config_id = operation.path_id(request, "configuration")
    async with request.app[database.DB].connection() as conn:
        await _may_read_configuration(request, conn, config_id)
        old_n = _number(request.query.get("from"), "from", INT4_MAX, 1)
        new_n = _number(request.query.get("to"), "to", INT4_MAX, 1)
        old = await versions.configuration_version(conn, config_id, old_n)
        new = await versions.configuration_version(conn, config_id, new_n)
    patch = previews.json_patch(old["config"], new["config"])
    return jsonbody.response(
        {"from": old_n, "to": new_n, "patch": patch,
         "name": _field_change(old, new, "name"), "comments": _field_change(old, new, "comments")}
    )  # fmt: skip


async def list_application_versions(request: web.Request) -> web.Response:
    """Newest first, like a configuration's versions (name and comments only)."""
    app_id = operation.path_id(request, "application")
    operation.may_read(request, app_id, errors.NotFound(f"no application with id {app_id}"))
    limit, below = bodies.limit(request), decode_cursor(request, INT4_MAX)
    async with request.app[database.DB].connection() as conn:
        items = await versions.application_page(conn, app_id, below, limit + 1)
    return page_of(items, limit, "version")


async def configurations_at(request: web.Request) -> web.Response:
    """An application's configurations as they were at `at_revision`, in one page."""
    app_id = operation.path_id(request, "application")
    revision = _number(request.query.get("at_revision"), "at_revision")
    db = request.app[database.DB]
    # One snapshot: the horizon checked is the one the rows are read under.
    async with db.connection() as conn, conn.transaction(isolation="repeatable_read"):
        await applications.require(conn, app_id)
        items = await versions.state_at(conn, app_id, revision)
    # The state it shows is the one at that revision.
    headers = {reads.REVISION_HEADER: str(revision)}
    return jsonbody.response({"items": items, "next_cursor": None}, headers=headers)


# --- rollback --------------------------------------------------------------------------------


async def rollback_configuration(request: web.Request) -> web.Response:
    """A new version equal to `to_version`; a deleted configuration is restored under its id
    (422 on `application_id` if its application is gone). 409 if its name is now taken, 410 if
    the version was pruned, 412 on a stale `If-Match`."""
    config_id = operation.path_id(request, "configuration")
    body = await bodies.body(request, models.RollbackIn)
    resource = await rollback.configuration(
        request.app[database.DB], operation.write_of(request), config_id, body.to_version,
        bodies.if_match(request),
    )  # fmt: skip
    revision = resource["revision"]
    return reads.resource_response(resource, revision=revision)


async def rollback_application(request: web.Request) -> web.Response:
    """Every configuration as it was at `to_revision`, in one transaction and ONE revision:
    changed ones go back, later ones are deleted, deleted ones return (subscribers get one
    `rolled_back` change). 422 if the revision is above the latest or older than history, or
    (naming `first_revision`) from before the application existed, unless `empty_ok`."""
    app_id = operation.path_id(request, "application")
    body = await bodies.body(request, models.ApplicationRollbackIn)
    done = await rollback.application(
        request.app[database.DB], operation.write_of(request), app_id, body.to_revision,
        body.empty_ok,
    )  # fmt: skip
    revision = done["revision"]
    # The write has committed: its configurations' numbers must not fail the answer.
    headers = {reads.REVISION_HEADER: str(revision)}
    return jsonbody.response(done, headers=headers)


# --- audit -------------------------------------------------------------------------------------


def _choice(request: web.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in allowed:
        raise errors.Invalid.one(name, f"must be one of {', '.join(allowed)}")
    return value


def _moment(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        moment.astimezone(UTC)  # year 1 at +14:00 is before what UTC can hold
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.tzinfo is None:
        raise errors.Invalid.one(name, "must be an RFC 3339 time with an offset (…Z or ±hh:mm)")
    return moment


def _audit_filter(request: web.Request) -> audit.Filter:
    app_id = request.query.get("application_id")
    if app_id is not None and not re.fullmatch(models.ID_PATTERN, app_id):
        raise errors.Invalid.one("application_id", "must be an application id (a ULID)")
    actor = request.query.get("actor")
    if actor is not None and (not 1 <= len(actor) <= models.NAME_MAX or not _storable(actor)):
        raise errors.Invalid.one("actor", f"must be 1 to {models.NAME_MAX} characters, no U+0000")
    return audit.Filter(
        app_id, actor, _choice(request, "action", tuple(sorted(ACTIONS))),
        _choice(request, "outcome", audit_service.OUTCOMES), _moment(request, "since"),
        _moment(request, "until"),
    )  # fmt: skip


# Every action the trail records: the write path's, and access control's token changes.
ACTIONS = frozenset(
    {
        *audit_service.ACTIONS.values(),
        *audit_service.TOKEN_ACTIONS,
        *audit_service.SESSION_ACTIONS,
        "configuration.rollback",
    }
)


async def list_audit(request: web.Request) -> web.Response:
    """Newest first; every filter is optional and exact (`actor`: its id or its name; `since`
    inclusive, `until` exclusive). Administrators only."""
    access.require_admin(guard.caller(request))
    where = _audit_filter(request)
    limit, below = bodies.limit(request), decode_cursor(request, 2**63 - 1)
    async with request.app[database.DB].connection() as conn:
        items = await audit.page(conn, where, below, limit + 1)
    return page_of(items, limit, "id")


_APPS, _CONFIGS = f"{operation.PREFIX}/applications", f"{operation.PREFIX}/configurations"
_ROLLBACK_ERRORS = (400, 404, 409, 410, 412, 413, 415, 422)
Op = operation.Operation

OPERATIONS: tuple[operation.Operation, ...] = (
    Op("GET", f"{_CONFIGS}/{{id}}/versions", list_configuration_versions,
       "A configuration's versions", "history", response=models.ConfigurationVersionPage,
       query=("limit", "cursor"), errors=(404, 422)),
    Op("GET", f"{_CONFIGS}/{{id}}/versions/{{version}}", get_configuration_version,
       "One version of a configuration", "history", response=models.ConfigurationVersion,
       query=("version",), errors=(404, 410)),
    Op("GET", f"{_CONFIGS}/{{id}}/diff", diff_configuration, "Diff two versions", "history",
       response=models.Diff, query=("from", "to"), errors=(404, 410, 422)),
    Op("POST", f"{_CONFIGS}/{{id}}/rollback", rollback_configuration,
       "Roll a configuration back to a version", "history", 200, models.RollbackIn,
       models.Configuration, query=("dry_run",), errors=_ROLLBACK_ERRORS, headers=("If-Match",),
       needs="write", dry_run=True),
    Op("GET", f"{_APPS}/{{id}}/versions", list_application_versions,
       "An application's versions", "history", response=models.ApplicationVersionPage,
       query=("limit", "cursor"), errors=(404, 422)),
    Op("POST", f"{_APPS}/{{id}}/rollback", rollback_application,
       "Roll every configuration of an application back to a revision", "history", 200,
       models.ApplicationRollbackIn, models.ApplicationRollback, query=("dry_run",),
       errors=(400, 404, 413, 415, 422), needs="write", dry_run=True),
    Op("GET", f"{operation.PREFIX}/audit", list_audit, "The audit trail", "audit",
       response=models.AuditPage, errors=(422,), needs="admin",
       query=("application_id", "actor", "action", "outcome", "since", "until", "limit",
              "cursor")),
)  # fmt: skip
