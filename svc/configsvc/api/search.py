"""``GET /api/v1/search?q=``: one box over names, keys and values, within the caller's grants."""

from __future__ import annotations

from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc.api import bodies, operation, paging
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.store import search

QUERY_MAX = 256
LIMIT_DEFAULT = 20
LIMIT_MAX = 100


# What _query accepts, as the document says it: no U+0000, something besides whitespace.
_SPACES = "".join(f"\\u{c:04X}" for c in range(0x10000) if chr(c).isspace())
QUERY_PATTERN = f"^[^\\u0000]*[^\\u0000{_SPACES}][^\\u0000]*$"


def _query(request: web.Request) -> str:
    raw = request.query.get("q", "")
    query = raw.strip()
    if not 1 <= len(query) <= len(raw) <= QUERY_MAX:
        raise errors.Invalid.one("q", f"must be 1 to {QUERY_MAX} characters")
    try:
        query.encode("utf-8")
    except UnicodeError:
        raise errors.Invalid.one("q", "is not valid Unicode (a lone surrogate)") from None
    if "\x00" in query:
        raise errors.Invalid.one("q", "must not contain U+0000")
    return query


async def search_everything(request: web.Request) -> web.Response:
    """Applications and configurations whose name, or a key or value inside, contains `q`
    (case-insensitive), in id order, paged with `cursor`; only applications the token may
    read. Each hit says where it matched (`where`, and `path` as a JSON pointer)."""
    query = _query(request)
    limit = bodies.limit(request, LIMIT_DEFAULT, LIMIT_MAX)
    after = paging.cursor(request)
    readable = access.readable(guard.caller(request))
    async with request.app[database.DB].connection() as conn:
        items = await search.page(conn, query, after, limit + 1, readable)
    return paging.page(items[:limit], len(items) > limit)


OPERATIONS: tuple[operation.Operation, ...] = (
    operation.Operation("GET", f"{operation.PREFIX}/search", search_everything,
                     "Search names, keys and values", "search", response=models.SearchPage,
                     query=("q", "search_limit", "cursor"), errors=(422,), needs="token"),
)  # fmt: skip
