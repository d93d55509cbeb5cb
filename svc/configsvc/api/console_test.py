"""The console's files as the service serves them: where, with which headers, how heavy."""

from __future__ import annotations

import re

from configsvc.api import console

UI = console.UI_PATH
FIRST_LOAD_MAX = 300 * 1024


async def test_the_root_redirects_to_the_console(client) -> None:
    resp = await client.get("/", allow_redirects=False, headers={"Authorization": ""})
    assert resp.status == 302
    assert resp.headers["Location"] == UI


async def test_the_page_needs_no_token_and_forbids_inline_code(client) -> None:
    resp = await client.get(UI, headers={"Authorization": ""})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    html = await resp.text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert not re.search(r"\sstyle=|\son[a-z]+=", html), "an inline style or handler"


async def test_every_file_is_served_with_its_type_and_unknown_ones_are_404(client) -> None:
    files = client.app[console.FILES]
    assert {"index.html", "main.js", "console.css"} <= set(files)
    for name in files:
        resp = await client.get(f"{UI}/{name}", headers={"Authorization": ""})
        assert resp.status == 200, name
        assert resp.headers["Cache-Control"] == "no-cache"
    js = await client.get(f"{UI}/main.js")
    assert js.content_type == "text/javascript"
    for name in ("nope.js", "..%2Fapp.py", "console.py"):
        resp = await client.get(f"{UI}/{name}")
        assert resp.status == 404, name
        assert resp.content_type == "application/problem+json"


def imports(source: str) -> set[str]:
    return set(re.findall(r'from "\./([\w.]+)"', source)) | set(
        re.findall(r'(?:src|href)="/ui/([\w.]+)"', source)
    )


async def test_the_first_load_fetches_only_our_files_and_stays_light(client) -> None:
    """Everything the page loads (its modules import each other), summed: under 300 KB."""
    files = client.app[console.FILES]
    wanted, seen = ["index.html"], set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        assert name in files, f"{name} is loaded but not served"
        wanted.extend(imports(files[name].decode()))
    assert {"main.js", "editor.js", "live.js", "console.css"} <= seen
    assert sum(len(files[name]) for name in seen) < FIRST_LOAD_MAX
    for name in seen:  # nothing from elsewhere (an SVG's namespace is a name, not a load)
        text = files[name].decode().replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), name
