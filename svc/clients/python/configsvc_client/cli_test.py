"""The command line, run in-process against the real server."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from configsvc.devtools import pgcluster
from configsvc_client import api, cli, events

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")


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


async def test_watch_prints_one_json_line_per_change(url: str, tmp_path: Path) -> None:
    async with api.ConfigClient(url) as rest:
        app = await rest.create_application("billing")
        limits = await rest.create_configuration(app.id, "limits", {"rate": 0})
        out, err = io.StringIO(), io.StringIO()
        argv = ["--url", url, "watch", "billing", "--count", "2", "--cache", str(tmp_path / "c")]
        watching = asyncio.create_task(cli.run(argv, out=out, err=err))
        # Write until it has seen two changes: the first writes may land before it subscribed.
        n = 0
        async with asyncio.timeout(60):
            while not watching.done():
                n += 1
                await rest.replace_configuration(limits.id, "limits", {"rate": n})
                await asyncio.wait({watching}, timeout=0.2)
    assert watching.result() == 0, err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert [line["name"] for line in lines] == ["limits", "limits"]
    assert lines[0]["new"] == lines[1]["old"]
    assert lines[0]["revision"] < lines[1]["revision"]
    assert lines[1]["op"] == "updated"


def test_event_lines_for_rejections() -> None:
    line = cli._event_line(events.Rejection("limits", {"rate": -1}, 7, "too low"))
    assert line == {"revision": 7, "name": "limits", "rejected": "too low"}


def test_main_exits_with_the_status(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{pgcluster.free_port()}"
    monkeypatch.setattr("sys.argv", ["configsvc_client", "--url", url, "get", "a", "b"])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 1
    assert "error:" in capsys.readouterr().err


async def test_a_refused_token_says_how_to_pass_one(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFIGSVC_TOKEN")
    status, _, err = await run("--url", url, "get", "billing", "limits")
    assert status == 1
    assert err.startswith("error: 401")
    assert "no token was sent: pass one with --token TOKEN or set CONFIGSVC_TOKEN" in err
    monkeypatch.setenv("CONFIGSVC_TOKEN", "")  # set, but to nothing: no token either
    status, _, err = await run("--url", url, "get", "billing", "limits")
    assert "hint: no token was sent" in err
    status, _, err = await run("--url", url, "--token", "cfs_not-a-real-one", "get", "a", "b")
    assert status == 1
    assert "refused the token given (--token or CONFIGSVC_TOKEN)" in err
    assert "cfs_not-a-real-one" not in err, "a secret is never echoed"


async def test_a_refused_connection_names_the_url_tried_and_how_to_change_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = pgcluster.free_port()
    status, _, err = await run("--url", f"http://127.0.0.1:{port}", "get", "billing", "limits")
    assert status == 1
    assert f"could not reach the service at http://127.0.0.1:{port}:" in err
    assert "--url URL or set CONFIGSVC_URL" in err
    monkeypatch.setenv("CONFIGSVC_URL", f"http://ops:hunter2@127.0.0.1:{port}/?token=cfs_x")
    monkeypatch.delenv("CONFIGSVC_TOKEN")  # aiohttp refuses both a token and a URL's password
    status, _, err = await run("history", "billing", "limits")
    assert status == 1
    assert f"at http://127.0.0.1:{port}/:" in err
    assert "hunter2" not in err
    assert "cfs_x" not in err


async def test_put_reads_the_config_from_stdin(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with api.ConfigClient(url) as rest:
        await rest.create_application("billing")
    monkeypatch.setattr("sys.stdin", io.StringIO('{"from": "stdin"}'))
    status, out, _ = await run("--url", url, "put", "billing", "limits", "--file", "-")
    assert (status, json.loads(out)["config"]) == (0, {"from": "stdin"})


async def test_history_diff_and_rollback_commands(url: str) -> None:
    async with api.ConfigClient(url) as rest:
        app = await rest.create_application("billing")
        cfg = await rest.create_configuration(app.id, "limits", {"rate": 1})
        await rest.replace_configuration(cfg.id, "limits", {"rate": 2})
    status, out, _ = await run("--url", url, "history", "billing", "limits")
    assert status == 0
    assert [json.loads(line)["op"] for line in out.splitlines()] == ["updated", "created"]
    status, out, _ = await run("--url", url, "diff", "billing", "limits", "1", "2")
    assert json.loads(out)["patch"] == [{"op": "replace", "path": "/rate", "value": 2}]
    status, out, _ = await run(
        "--url", url, "rollback", "billing", "limits", "1", "--reason", "too fast"
    )
    assert (status, json.loads(out)["config"]) == (0, {"rate": 1})
    status, out, _ = await run("--url", url, "rollback", "billing", "--to-revision", "1")
    assert (status, json.loads(out)["deleted"]) == (0, [cfg.id])
    status, out, _ = await run("--url", url, "history", "billing", cfg.id, "--limit", "1")
    assert json.loads(out)["op"] == "deleted", "a deleted configuration is named by its id"
    status, _, err = await run("--url", url, "rollback", "billing")
    assert status == 2
    assert "--to-revision" in err


async def test_a_rollback_to_before_the_application_existed_needs_empty_ok(url: str) -> None:
    async with api.ConfigClient(url) as rest:
        await rest.create_application("other")
        app = await rest.create_application("shop")
        cfg = await rest.create_configuration(app.id, "limits", {"rate": 1})
    before = str(app.revision - 1)
    status, _, err = await run("--url", url, "rollback", "shop", "--to-revision", before)
    assert status == 1
    assert f"created at revision {app.revision}" in err
    assert "hint: add --empty-ok to go back there anyway" in err
    status, _, err = await run("--url", url, "rollback", "shop", "limits", "1", "--empty-ok")
    assert (status, "--empty-ok goes with --to-revision" in err) == (2, True)
    status, out, _ = await run(
        "--url", url, "rollback", "shop", "--to-revision", before, "--empty-ok"
    )
    assert (status, json.loads(out)["deleted"]) == (0, [cfg.id])


async def test_put_dry_run_prints_the_patch_and_writes_nothing(url: str) -> None:
    async with api.ConfigClient(url) as rest:
        app = await rest.create_application("billing")
        await rest.create_configuration(app.id, "limits", {"rate": 5})
        schema = {"properties": {"rate": {"maximum": 10}}}
        await rest.put_schema(app.id, "limits", schema)
    status, out, _ = await run(
        "--url", url, "put", "billing", "limits", "--json", '{"rate": 6}', "--dry-run"
    )
    assert (status, json.loads(out)) == (0, [{"op": "replace", "path": "/config/rate", "value": 6}])
    status, out, _ = await run(
        "--url", url, "put", "billing", "limits", "--json", '{"rate": 60}', "--dry-run"
    )
    assert status == 1
    assert "invalid: config/rate: 60 is greater than the maximum of 10 (maximum)" in out
    status, out, _ = await run("--url", url, "put", "billing", "new", "--json", "{}", "--dry-run")
    assert status == 0
    assert json.loads(out)[0] == {"op": "add", "path": "/name", "value": "new"}
    status, out, _ = await run("--url", url, "get", "billing", "limits")
    assert (status, json.loads(out)) == (0, {"rate": 5})
    status, _, err = await run("--url", url, "put", "billing", "limits", "--json", '{"rate": 60}')
    assert status == 1
    assert "config/rate: 60 is greater than the maximum of 10" in err
