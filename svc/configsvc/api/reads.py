"""How a resource is answered: GET an application or a configuration from this worker's
read cache (live/cache.py) or the database, with identical bodies and headers either way;
every answer says which revision it reflects (``Config-Revision``), and a write which one it
committed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web
from configsvc_contract import models
from multidict import CIMultiDict

from configsvc import settings as settings_mod
from configsvc.api import bodies
from configsvc.db import database
from configsvc.live import cache, entries
from configsvc.store import changes

REVISION_HEADER = models.REVISION_HEADER


def resource_response(
    resource: dict[str, Any], status: int = 200, location: str | None = None,
    revision: int | None = None,
) -> web.Response:  # fmt: skip
    """The resource as JSON with its ETag, and the revision it reflects when known."""
    return body_response(entries.encode(resource), resource["version"], revision, status, location)


def body_response(
    body: bytes, version: int, revision: int | None, status: int = 200,
    location: str | None = None,
) -> web.Response:  # fmt: skip
    """An encoded resource: the one builder behind both the cache's and the database's answer."""
    # The Content-Type as aiohttp writes it for JSON text, set here so it is not parsed again.
    headers = CIMultiDict({hdrs.CONTENT_TYPE: _JSON_TYPE, hdrs.ETAG: bodies.etag(version)})
    if revision is not None:
        headers[REVISION_HEADER] = str(revision)
    if location:
        headers[hdrs.LOCATION] = location
    return web.Response(body=body, status=status, headers=headers)


_JSON_TYPE = "application/json; charset=utf-8"


Getter = Callable[[database.Connection, str], Awaitable[tuple[dict[str, Any], int]]]


async def read(
    request: web.Request, kind: str, id_: str, get_at: Getter
) -> tuple[entries.Entry, int]:
    """The resource, and the revision it reflects: from this worker's memory when that is
    current enough for the request's minimum revision (waiting a little for the listener if
    it is behind), else from the database."""
    reads = request.app[cache.CACHE]
    wanted = bodies.min_revision(request)
    if wanted > reads.revision and reads.serving():
        wait_s = request.app[settings_mod.SETTINGS].min_revision_wait_ms / 1000
        await reads.reach(wanted, wait_s)
    # Nor older than this worker's own writes: whoever wrote through it reads what it wrote.
    if reads.serving(max(wanted, request.app[database.DB].group.committed)):
        entry = reads.lookup(kind, id_)
        if entry is not None:
            # Current through everything this worker has applied (or newer, if its fill was).
            return entry, max(entry.as_of, reads.revision)
    fill = reads.begin(kind, id_)
    try:
        async with request.app[database.DB].connection() as conn:
            resource, at = await get_at(conn, id_)
    finally:
        reads.end(fill)
    entry = entries.entry_of(kind, resource, at)
    reads.install(fill, entry)
    return entry, at  # the database's snapshot, whatever the listener did meanwhile


def answer(request: web.Request, entry: entries.Entry, revision: int) -> web.Response:
    """200 with the body, or 304 when If-None-Match names its version; either with the
    revision it reflects."""
    if bodies.none_match(request, entry.version):
        headers = {"ETag": bodies.etag(entry.version), REVISION_HEADER: str(revision)}
        raise web.HTTPNotModified(headers=headers)
    return body_response(entry.body, entry.version, revision)


def deleted(request: web.Request, revision: int) -> web.Response:
    """204 for a deletion, with the revision it committed."""
    return web.Response(status=204, headers={REVISION_HEADER: str(revision)})


@contextlib.asynccontextmanager
async def snapshot(conn: database.Connection) -> AsyncIterator[int]:
    """One read-only snapshot for the reads inside (a list's pages, say), and the revision
    it is at. Nothing to wait for: the database holds every committed revision."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        revision, _ = await changes.counter(conn)
        yield revision


def stamped(response: web.Response, revision: int) -> web.Response:
    response.headers[REVISION_HEADER] = str(revision)
    return response
