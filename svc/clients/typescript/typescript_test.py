"""The TypeScript client (svc/clients/typescript) against a real server, in Node and Chromium.

The package is built here (``npm ci`` from package-lock.json when node_modules is missing,
then ``tsc``), and Node's own test runner runs test/*.test.mjs against a real two-worker
server. The Node tests cause their faults through a small control server of this test (kill
the workers, freeze one with SIGSTOP, stop and start the service, prune the log while it is
down), since this process owns the server. Skipped only where ``node`` is missing (.ci/run
installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import conftest
from configsvc import settings as settings_mod

HERE = Path(__file__).resolve().parent
NODE, NPM = shutil.which("node"), shutil.which("npm")
pytestmark = pytest.mark.skipif(NODE is None or NPM is None, reason="node or npm is not installed")
GUIDE = settings_mod.SVC_DIR / "docs" / "typescript-client.md"


@pytest.fixture(scope="module")
def built() -> Path:
    """The package built into dist/ (dependencies from the lockfile when missing)."""
    assert NPM is not None
    if not (HERE / "node_modules" / "typescript").is_dir():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=300)
    subprocess.run([NPM, "run", "--silent", "build"], cwd=HERE, check=True, timeout=300)
    return HERE / "dist"


class Control:
    """What the Node tests ask for, done to the real server process this test started."""

    def __init__(self, service: conftest.Service, database_url: str) -> None:
        self.service, self.database_url = service, database_url
        self.frozen: set[int] = set()

    def kill_workers(self, _: dict[str, Any]) -> Any:
        pids = self.service.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)  # the master starts new ones
        return pids

    def freeze(self, body: dict[str, Any]) -> Any:
        """SIGSTOP one worker, named as the fleet shows it (``host:pid``): its sockets stay
        open and silent, like a server whose process hangs or whose network is black-holed."""
        pid = int(str(body["worker"]).rsplit(":", 1)[-1])
        assert pid in self.service.worker_pids(), (pid, self.service.worker_pids())
        os.kill(pid, signal.SIGSTOP)
        self.frozen.add(pid)
        return pid

    def thaw(self, _: dict[str, Any]) -> Any:
        """SIGCONT every worker frozen (also done when the test ends, whatever happened)."""
        thawed = sorted(self.frozen)
        for pid in thawed:
            os.kill(pid, signal.SIGCONT)
        self.frozen.clear()
        return thawed

    def stop(self, _: dict[str, Any]) -> Any:
        self.service.stop()

    def start(self, _: dict[str, Any]) -> Any:
        self.service.start()

    def prune(self, body: dict[str, Any]) -> Any:
        """While the service is down: change a configuration behind its back and prune the
        log past it, so a resume's ``since`` is older than what the log retains."""
        self.service.stop()
        config = json.dumps(body["config"]).replace("'", "''")
        conftest.run_sql(
            self.database_url,
            f"UPDATE configurations SET config = '{config}' WHERE id = '{body['id']}';"
            " UPDATE revision_counter SET revision = revision + 2, pruned_through = revision + 2",
        )  # both values come from this test's own Node tests, not from outside
        self.service.start()


@pytest.fixture
def control(service_factory: Callable[..., conftest.Service], database_url: str) -> Iterator[str]:
    service = service_factory(workers=2)
    actions = Control(service, database_url)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)) or b"{}")
            action = getattr(actions, self.path.strip("/").replace("-", "_"))
            result = json.dumps(action(body)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(result)))
            self.end_headers()
            self.wfile.write(result)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["CONFIGSVC_TEST_URL"] = service.url
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        actions.thaw({})  # a stopped worker would not hear the service's SIGTERM


def node(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> str:
    assert NODE is not None
    result = subprocess.run(
        [NODE, *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, output
    return output


def test_the_node_suite_passes_against_a_real_server(
    built: Path, control: str, admin_token: str
) -> None:
    tests = sorted(str(p.relative_to(HERE)) for p in (HERE / "test").glob("*.test.mjs"))
    env = {
        "CONFIGSVC_URL": os.environ["CONFIGSVC_TEST_URL"],
        "CONFIGSVC_ADMIN_TOKEN": admin_token,
        "CONFIGSVC_CONTROL": control,
    }
    output = node(["--test", "--test-concurrency=1", *tests], env, HERE)
    assert re.search(r"^# fail 0$", output, re.M), output
    assert re.search(r"^# pass [1-9]", output, re.M), output


MARK = re.compile(
    r"<!-- README test: skip: [^>]*typescript_test\.py runs this block[^>]*-->\n```sh\n(.*?)^```",
    re.S | re.M,
)


def printed(page: Path, start: str, lang: str) -> str:
    """The first ```lang block of `page` after the text `start`."""
    text = page.read_text()
    found = re.search(rf"```{lang}\n(.*?)^```", text[text.index(start) :], re.S | re.M)
    assert found is not None, (page, start)
    return found.group(1)


def run_marked_block(page: Path, cwd: Path, port: int, admin_token: str) -> list[str]:
    """The one block of `page` marked for this test, run as the README test runs blocks, in
    a directory laid out like the top of a checkout, with an empty npm cache: nothing but the
    tarball (which carries ws) is there to install from. What it printed, line by line."""
    svc = cwd / "svc"
    (svc / "clients").mkdir(parents=True)
    (svc / "clients" / "typescript").symlink_to(HERE)
    (svc / ".venv").symlink_to(settings_mod.SVC_DIR / ".venv")
    (svc / ".admin-token").write_text(admin_token + "\n")
    blocks = MARK.findall(page.read_text())
    assert len(blocks) == 1, page
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIGSVC_")}
    env |= {"PORT": str(port), "npm_config_cache": str(cwd / "empty-npm-cache")}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", blocks[0]],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = f"{blocks[0]}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, output
    return result.stdout.splitlines()


def test_the_guides_hot_reload_example_runs_from_the_packed_tarball(
    built: Path, service_factory: Callable[..., conftest.Service], admin_token: str, tmp_path: Path
) -> None:
    service = service_factory()
    (tmp_path / "greeter.mts").write_text(printed(GUIDE, "Save this as `greeter.mts`", "ts"))
    lines = run_marked_block(GUIDE, tmp_path, service.port, admin_token)
    assert "hello" in lines, lines
    assert 'settings: {"greeting":"hello"} -> {"greeting":"bonjour"}' in lines, lines
    assert "rejected settings: Error: greeting must be a string" in lines, lines
    greetings = [line for line in lines if line in ("hello", "bonjour", "42")]
    assert greetings == ["hello", "bonjour"], lines  # the rejected 42 is not applied


def post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.load(response)
        return result


def test_the_readmes_typescript_block_runs_from_the_packed_tarball(
    built: Path, service_factory: Callable[..., conftest.Service], admin_token: str, tmp_path: Path
) -> None:
    service = service_factory()
    # What the README's first request leaves behind.
    app = post(f"{service.url}/api/v1/applications", admin_token, {"name": "hello"})
    body = {"application_id": app["id"], "name": "settings", "config": {"greeting": "hi"}}
    post(f"{service.url}/api/v1/configurations", admin_token, body)
    lines = run_marked_block(
        settings_mod.SVC_DIR.parent / "README.md", tmp_path, service.port, admin_token
    )
    assert "{ greeting: 'hi' }" in lines, lines


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_THE_PAGE = """async ([token, name]) => {
  const { Client, ConfigsvcError } = await import("/ts-client/index.js");
  const client = new Client({ url: location.origin, token });
  const app = await client.createApplication({ name });
  const cfg = await client.createConfiguration(
    { application_id: app.id, name: "flags", config: { on: false } });
  const missing = await client.getApplication("01ARZ3NDEKTSV4RRFFQ69G5FAV").catch((e) => e);
  const live = await client.live(name);
  const first = live.get("flags");
  const changed = live.changed();
  await client.replaceConfiguration(cfg.id, { name: "flags", config: { on: true } });
  await changed;
  const result = { first, now: live.get("flags"), stale: live.stale,
    missing: [missing instanceof ConfigsvcError, missing.status] };
  await live.close();
  return result;
}"""


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium on this machine")
def test_the_browser_build_does_rest_and_live_in_chromium(
    built: Path, service_factory: Callable[..., conftest.Service]
) -> None:
    """dist/ as a browser loads it: ES modules from the service's own origin (so no CORS), a
    standard WebSocket with the token in its subprotocol. A Node-only import reached at load
    time (ws, node:fs: bare specifiers a browser cannot resolve) would fail the import."""
    from playwright.sync_api import sync_playwright

    service = service_factory()
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

    def serve(route: Any) -> None:
        file = built / route.request.url.split("/ts-client/", 1)[1]
        if file.is_file():
            route.fulfill(path=file, content_type="text/javascript")
        else:
            errors.append(f"not in dist/: {route.request.url}")
            route.fulfill(status=404, body="not in dist/")

    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: print("page:", message.text))
            page.route(f"{service.url}/ts-client/**", serve)
            # A document the server itself served: Chromium lets it reach the loopback feed.
            page.goto(f"{service.url}/readyz")
            result = page.evaluate(IN_THE_PAGE, [conftest.ADMIN_TOKEN, "browser-app"])
        finally:
            browser.close()
    assert errors == []
    assert result == {"first": {"on": False}, "now": {"on": True}, "stale": False,
                      "missing": [True, 404]}  # fmt: skip
    modules = [url for url in requested if "/ts-client/" in url]
    assert any(url.endswith("/feed.js") for url in modules), requested
    assert not any("token" in url or conftest.ADMIN_TOKEN in url for url in requested), requested
