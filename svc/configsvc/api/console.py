"""The web console: ``/ui`` (``/`` redirects there), a page and its few static files.

Everything it loads comes from here (no CDN, no build step): plain ES modules and one style
sheet, read once at start-up. The page holds no data; it signs in with a token for a session
cookie (api/sessions.py) and then uses the REST API and the live feed like any client. HTML
gets the strict Content-Security-Policy of every page (api/openapi.py): no inline code.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

UI_PATH = "/ui"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
          ".svg": "image/svg+xml"}  # fmt: skip
FILES: web.AppKey[dict[str, bytes]] = web.AppKey("console_files", dict)


def _files() -> dict[str, bytes]:
    static = resources.files("configsvc.api").joinpath("static", "ui")
    return {
        entry.name: entry.read_bytes()
        for entry in static.iterdir()
        if entry.is_file() and any(entry.name.endswith(ext) for ext in _TYPES)
    }


async def _load(app: web.Application) -> None:
    app[FILES] = _files()


def _response(request: web.Request, name: str) -> web.Response:
    body = request.app[FILES].get(name)
    if body is None:
        raise web.HTTPNotFound(text=f"no console file {name[:100]}")
    kind = next(kind for ext, kind in _TYPES.items() if name.endswith(ext))
    # Revalidated on every load: a new release's files are picked up at once.
    headers = {"Cache-Control": "no-cache"}
    return web.Response(body=body, content_type=kind, charset="utf-8", headers=headers)


async def page(request: web.Request) -> web.Response:
    return _response(request, "index.html")


async def asset(request: web.Request) -> web.Response:
    return _response(request, request.match_info["name"])


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound(UI_PATH)


def add_routes(app: web.Application) -> None:
    app.on_startup.append(_load)
    app.router.add_get("/", home, allow_head=False)
    app.router.add_get(UI_PATH, page)
    app.router.add_get(f"{UI_PATH}/{{name}}", asset)
