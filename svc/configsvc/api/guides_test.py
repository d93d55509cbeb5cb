"""The guides of ``svc/docs/`` on the docs page: listed, served as Markdown, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from yarl import URL

from configsvc.api import guides, openapi, operation

DOCS = f"{operation.PREFIX}/docs"


async def test_the_docs_page_links_every_guide_and_each_is_served(client) -> None:
    page = await (await client.get(openapi.DOCS_PATH)).text()
    names = sorted(path.name for path in guides.DOCS_DIR.glob("*.md"))
    assert {"api.md", "operations.md", "high-availability.md"} <= set(names)
    assert re.findall(r'<a href="docs/([^"]+)">', page) == names
    # Public, like the page: fetched without a token.
    async with aiohttp.ClientSession() as session:
        for name in names:
            async with session.get(client.make_url(f"{DOCS}/{name}")) as resp:
                assert resp.status == 200, name
                assert resp.headers["Content-Type"] == "text/markdown; charset=utf-8"
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
                assert await resp.read() == (guides.DOCS_DIR / name).read_bytes()


async def test_nothing_but_a_listed_guide_is_served(client) -> None:
    readme = (guides.DOCS_DIR.parent.parent / "README.md").read_text()[:40]
    attempts = [
        "../README.md", "..%2F..%2FREADME.md", "%2e%2e/%2e%2e/README.md", "..%2fsettings.py",
        "API.md", "api.md/", "api.md%00.md", "nope.md", "api.txt", "docs.html", ".env",
        "%2Fetc%2Fpasswd", "....//....//README.md", "high-availability.md/../api.md",
    ]  # fmt: skip
    served = {path.read_bytes() for path in guides.DOCS_DIR.glob("*.md")}
    base = str(client.make_url(DOCS))
    for attempt in attempts:
        # Sent as written: no client-side normalisation of the dots or the escapes.
        url = URL(f"{base}/{attempt}", encoded=True)
        resp = await client.session.get(url, allow_redirects=False)
        body = await resp.read()
        assert resp.status in (200, 404), (attempt, resp.status)
        assert readme.encode() not in body, attempt
        assert b"root:" not in body, attempt
        if resp.status == 200:  # the server resolved the dots: only ever to a listed guide
            assert body in served, attempt


def test_only_plain_markdown_files_of_the_directory_are_loaded(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# A `guide` <b>\n\ntext\n")
    (tmp_path / "notes.txt").write_text("not markdown")
    (tmp_path / "Upper.md").write_text("# not a served name")
    (tmp_path / "sub.md").mkdir()
    secret = tmp_path.parent / f"{tmp_path.name}-secret.md"
    secret.write_text("# secret")
    (tmp_path / "link.md").symlink_to(secret)
    loaded = guides.load(tmp_path)
    assert list(loaded) == ["guide.md"]
    assert guides.links(loaded) == '<ul><li><a href="docs/guide.md">A guide &lt;b&gt;</a></li></ul>'
    assert guides.load(tmp_path / "absent") == {}
    assert guides.links({}) == ""
