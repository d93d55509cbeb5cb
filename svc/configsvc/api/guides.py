"""The guides under ``svc/docs/``, served beside the API page: ``/api/v1/docs/{name}.md``.

Only the Markdown files found in that one directory at start-up are served, by their file
name: the route accepts nothing but ``[a-z0-9-]+.md`` and the handler looks the name up in
what was loaded, so no path from a request ever reaches the file system.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from aiohttp import web

from configsvc import settings as settings_mod
from configsvc.api import operation

DOCS_DIR = settings_mod.SVC_DIR / "docs"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.md")
GUIDE_PATH = f"{operation.PREFIX}/docs/{{name:{_NAME.pattern}}}"  # the one name rule, twice used
GUIDES: web.AppKey[dict[str, tuple[str, bytes]]] = web.AppKey("guides", dict)
# Where the docs page lists them.
PLACEHOLDER = "<!-- guides -->"


def load(directory: Path) -> dict[str, tuple[str, bytes]]:
    """File name to (title, text) for every guide; none when the directory is absent."""
    found: dict[str, tuple[str, bytes]] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.iterdir()):
        if _NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
            body = path.read_bytes()
            first = body.decode("utf-8").partition("\n")[0]
            found[path.name] = (first.removeprefix("# ").replace("`", "") or path.name, body)
    return found


def links(guides: dict[str, tuple[str, bytes]]) -> str:
    """The docs page's list of guides, linked relative to ``/api/v1/docs``."""
    items = "".join(
        f'<li><a href="docs/{name}">{html.escape(title)}</a></li>'
        for name, (title, _) in guides.items()
    )
    return f"<ul>{items}</ul>" if items else ""


async def serve_guide(request: web.Request) -> web.Response:
    found = request.app[GUIDES].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such guide")
    return web.Response(body=found[1], content_type="text/markdown", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app[GUIDES] = load(DOCS_DIR)
    app.router.add_get(GUIDE_PATH, serve_guide, allow_head=False)
