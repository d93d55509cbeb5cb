"""What a dry run answers: the state a write touches, before and after, and the patch between.

The write path reads :func:`document` of the write's target first thing in a dry run's
transaction and again just before rolling it back, so the patch is exactly what the write
would have changed, seen by the same transaction that would have changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import jsonpatch
from configsvc_contract import exactjson

from configsvc import errors
from configsvc.service import writing
from configsvc.store import applications, configurations, schemas, versions

# What a real write answers, by its change-log op (anything else: 200).
_STATUS = {
    "created": 201, "application_created": 201, "schema_created": 201,
    "deleted": 204, "application_deleted": 204, "schema_deleted": 204,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Preview:
    """A dry run's outcome; ``invalid`` is the schema refusal the real write would raise."""

    op: str
    application_id: str
    resource: dict[str, Any]
    before: Any
    after: Any
    would_be_version: int | None
    invalid: errors.SchemaInvalid | errors.SchemaConflict | None = None

    @property
    def status(self) -> int:
        if self.invalid is not None:
            return errors.kind(self.invalid).status
        return _STATUS.get(self.op, 200)

    def errors(self) -> list[dict[str, Any]]:
        """The violations: of the body, or (409) of each configuration the schema would fail."""
        if isinstance(self.invalid, errors.SchemaInvalid):
            return self.invalid.violations
        if isinstance(self.invalid, errors.SchemaConflict):
            return [
                {**each, "configuration_id": c["id"], "name": c["name"]}
                for c in self.invalid.configurations
                for each in c["errors"]
            ]
        return []

    def patch(self) -> list[dict[str, Any]]:
        """RFC 6902, from the state now to the state the write would leave."""
        return json_patch(self.before, self.after)


class DryRun(Exception):
    """Raised by the write path (service/writes.py) for a dry run, once it has rolled back:
    what the write would do."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(preview.op)
        self.preview = preview


def json_patch(before: Any, after: Any) -> list[dict[str, Any]]:
    """RFC 6902 from ``before`` to ``after``. jsonpatch compares values by their JSON text:
    with the exact encoder, so fractions (Decimal, as the database codec reads them) compare."""
    found: list[dict[str, Any]] = jsonpatch.JsonPatch.from_diff(
        before, after, dumps=exactjson.dumps
    ).patch
    return found


def _fields(config: dict[str, Any]) -> dict[str, Any]:
    return {"name": config["name"], "comments": config["comments"], "config": config["config"]}


async def document(
    conn: asyncpg.Connection, kind: str, id_: str | None, app_id: str | None
) -> dict[str, Any]:
    """The state a write of ``kind`` changes ({} if there is none): a configuration's name,
    comments and config; an application's name and comments and its configurations by id; a
    schema (by name ``id_`` in ``app_id``) as ``{"schema": ...}``."""
    try:
        if kind == "configuration" and id_ is not None:
            return _fields(await configurations.get(conn, id_))
        if kind == "application" and id_ is not None:
            app = await applications.get(conn, id_)
            configs = {c["id"]: _fields(c) for c in await configurations.all_of(conn, id_)}
            return {"name": app["name"], "comments": app["comments"], "configurations": configs}
        if kind == "schema" and id_ is not None and app_id is not None:
            return {"schema": (await schemas.get(conn, app_id, id_))["schema"]}
    except errors.NotFound:
        pass
    return {}


async def document_of(
    conn: asyncpg.Connection, target: writing.Target | None, change: writing.Change | None = None
) -> dict[str, Any]:
    """The state ``target`` is in (after ``change``, once it is made): see :func:`document`."""
    if target is None:
        return {}
    id_ = target.id
    if id_ is None and change is not None:  # a create: now it has an id
        id_ = change.application_id if target.kind == "application" else change.resource["id"]
    return await document(conn, target.kind, id_, target.application_id)


def preview(change: writing.Change, before: Any, after: Any) -> Preview:
    """What a dry run of ``change`` answers, given the state before and after it."""
    number = change.resource.get("version")
    return Preview(
        change.op, change.application_id, change.resource, before, after,
        None if number is None else versions.row_number(change.op, change.resource),
        change.invalid,
    )  # fmt: skip
