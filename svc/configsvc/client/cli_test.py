"""The command line, run in-process against the real server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from configsvc.client import api, cli


@pytest.fixture
def url(client: TestClient) -> str:  # type: ignore[type-arg]
    return str(client.make_url(""))


async def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await cli.run(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def test_put_creates_then_replaces_and_get_reads(url: str, tmp_path: Path) -> None:
    async with api.ConfigClient(url) as rest:
        app = await rest.create_application("billing")
    status, out, _ = await run("--url", url, "put", "billing", "limits", "--json", '{"rate": 5}')
    assert status == 0
    created = json.loads(out)
    assert (created["config"], created["version"]) == ({"rate": 5}, 1)
    file = tmp_path / "limits.json"
    file.write_text('{"rate": 6}')
    status, out, _ = await run(
        "--url", url, "put", app.id, "limits", "--file", str(file), "--comments", "raised"
    )
    assert status == 0
    assert (json.loads(out)["config"], json.loads(out)["version"]) == ({"rate": 6}, 2)
    status, out, _ = await run("--url", url, "get", "billing", "limits")
    assert (status, json.loads(out)) == (0, {"rate": 6})
    status, out, _ = await run("--url", url, "get", "billing", "limits", "--full")
    assert json.loads(out)["comments"] == "raised"


async def test_failures_say_why_with_a_nonzero_status(url: str) -> None:
    status, _, err = await run("--url", url, "get", "nothing", "limits")
    assert status == 1
    assert "no application 'nothing'" in err
    async with api.ConfigClient(url) as rest:
        await rest.create_application("billing")
    status, _, err = await run("--url", url, "get", "billing", "limits")
    assert status == 1
    assert "no configuration 'limits'" in err
    status, _, err = await run("--url", url, "put", "billing", "limits", "--json", "[1]")
    assert (status, err) == (2, "error: the config must be a JSON object\n")
    status, _, err = await run("--url", url, "put", "billing", "limits", "--json", "{bad")
    assert status == 2
    status, _, err = await run("--url", url, "put", "billing", " ", "--json", "{}")
    assert status == 1
    assert "name:" in err
