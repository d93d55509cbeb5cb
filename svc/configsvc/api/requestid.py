"""``X-Request-Id`` on every response: the client's, when well formed, else a new ULID.

The id is recorded with every version, audit entry and feed ``change`` frame a request causes,
so one id ties a user's report to what the service did.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from configsvc.ops import logs
from configsvc.store import resources

HEADER = "X-Request-Id"
# 1 to 128 characters that need no quoting anywhere they are shown (logs, headers, JSON).
PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def chosen(sent: str | None) -> str:
    """The client's id if it is well formed; otherwise a fresh one (a malformed id is no error)."""
    return sent if sent is not None and PATTERN.fullmatch(sent) else resources.new_id()


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: so errors (problem responses, 304s, 405s) carry the id too."""
    request_id = chosen(request.headers.get(HEADER))
    # On every line logged while serving it, and read by whatever records the request (the
    # audit trail, through auth/guard.py): one place holds it.
    logged = logs.REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[HEADER] = request_id
        raise
    finally:
        logs.REQUEST_ID.reset(logged)
    if not response.prepared:
        response.headers[HEADER] = request_id
    return response
