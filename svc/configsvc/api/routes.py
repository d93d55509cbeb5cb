"""The table of the REST API's operations: every feature module's ``OPERATIONS``, in the order
the router tries them. The router registers this table and openapi.py documents it, so the two
cannot drift.
"""

from __future__ import annotations

import re

from aiohttp import web

from configsvc.api import (
    applications,
    configurations,
    dryrun,
    fleet,
    history,
    operation,
    rollouts,
    schemas,
    search,
    sessions,
    tokens,
)

OPERATIONS: tuple[operation.Operation, ...] = (
    *applications.OPERATIONS,
    *configurations.OPERATIONS,
    *tokens.OPERATIONS,
    *history.OPERATIONS,
    *fleet.OPERATIONS,
    *rollouts.OPERATIONS,
    *schemas.OPERATIONS,
    *search.OPERATIONS,
    *sessions.OPERATIONS,
)


def route_path(path: str, paths: set[str]) -> str:
    """``path`` as registered: a ``{param}`` segment does not match a literal sibling's segment
    (``/tokens/{id}`` never matches ``/tokens/self``), so a method the literal path lacks is a
    405 with its ``Allow``, not the ``{id}`` route's 404. Names in the path stay as documented."""
    segments = path.split("/")
    others = [other.split("/") for other in paths]
    routed = list(segments)
    for i, segment in enumerate(segments):
        literals = sorted({o[i] for o in others if len(o) > i and o[:i] == segments[:i]
                           and not o[i].startswith("{")})  # fmt: skip
        if segment.startswith("{") and literals:
            taken = "|".join(map(re.escape, literals))
            routed[i] = f"{{{segment[1:-1]}:(?!(?:{taken})$)[^/]+}}"
    return "/".join(routed)


def add_routes(app: web.Application) -> None:
    paths = {op.path for op in OPERATIONS}
    for op in OPERATIONS:
        handler = dryrun.supported(op.handler) if op.dry_run else op.handler
        app.router.add_route(op.method, route_path(op.path, paths), handler)
