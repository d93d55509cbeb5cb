"""The client is a distribution of its own: it imports, installs and runs without the server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest


def test_the_client_imports_without_the_database_driver() -> None:
    code = (
        "import sys, configsvc_client, configsvc_client.cli\n"
        "heavy = {'asyncpg', 'pydantic_settings'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


# --- The distribution installs alone and the README's example runs with it -----------------

CLIENT_DIR = Path(__file__).resolve().parent.parent
# The wire models' own distribution, which the client depends on: installed with it, from here.
CONTRACT_DIR = CLIENT_DIR.parents[1] / "contract"
README = CLIENT_DIR.parents[1] / "docs" / "python-client.md"  # the guide with the example
SERVER_ONLY = ["asyncpg", "gunicorn", "uvloop", "pydantic_settings", "configsvc"]
SITE_CHECK = (
    "import importlib.util as u, json, pathlib, configsvc_client as c, configsvc_contract as w\n"
    f"print(json.dumps([[m for m in {SERVER_ONLY!r} if u.find_spec(m)],\n"
    "    sorted(p.name for p in pathlib.Path(c.__file__).parent.iterdir()),\n"
    "    sorted(str(p.relative_to(pathlib.Path(w.__file__).parent))\n"
    "           for p in pathlib.Path(w.__file__).parent.rglob('*.py'))]))\n"
)


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.skip("uv is not installed: it makes the temporary virtualenv")
    return found


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding ``configsvc-client`` and ``configsvc-contract`` installed from
    svc/clients/python and svc/contract, and nothing else of this project; returns its bin
    directory."""
    uv, venv = _uv(), tmp_path_factory.mktemp("client") / "venv"
    env = {**os.environ, "UV_PYTHON_PREFERENCE": "only-system"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], env=env, check=True)
    subprocess.run(
        # --no-sources: as pip would, from the two directories and the index; not the
        # workspace's sources, which make the contract an editable link to the source tree.
        [uv, "pip", "install", "-q", "--no-sources", "--python", str(venv / "bin" / "python"),
         str(CONTRACT_DIR), str(CLIENT_DIR)],
        env=env, check=True, timeout=300,
    )  # fmt: skip
    return venv / "bin"


def test_the_installed_client_has_no_server_dependencies_and_no_tests(client_venv: Path) -> None:
    result = subprocess.run(
        [client_venv / "python", "-c", SITE_CHECK], capture_output=True, text=True, check=True,
        cwd=client_venv,  # not svc/: the source tree must not be importable from here
    )  # fmt: skip
    present, files, contract = json.loads(result.stdout)
    assert present == [], "installed with the client and the contract alone"
    assert {"cli.py", "py.typed", "models.py"} <= set(files)  # models.py: the old path's shim
    assert {"models/__init__.py", "models/feed.py", "exactjson.py"} <= set(contract)
    assert not [f for f in files + contract if f.endswith("_test.py")]


@pytest.mark.parametrize("command", [["python", "-m", "configsvc_client"], ["configsvc-client"]])
def test_the_installed_command_line_starts(client_venv: Path, command: list[str]) -> None:
    program = [str(client_venv / command[0]), *command[1:], "--help"]
    result = subprocess.run(program, capture_output=True, text=True, cwd=client_venv, timeout=60)
    assert result.returncode == 0, result.stderr
    assert {"watch", "get", "put"} <= set(result.stdout.split())


def _readme_example() -> str:
    found = re.search(r"Save this as `greeter\.py`.*?```python\n(.*?)```", README.read_text(), re.S)
    assert found is not None, "the README's greeter.py example"
    return found.group(1)


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(30):
        return (await proc.stdout.readline()).decode().strip()


async def _put(client_venv: Path, env: dict[str, str], config: str) -> None:
    """``configsvc-client put greeter settings --json CONFIG``, as the README does."""
    put = await asyncio.create_subprocess_exec(
        client_venv / "configsvc-client", "put", "greeter", "settings", "--json", config, env=env
    )
    async with asyncio.timeout(60):
        assert await put.wait() == 0


async def test_the_readme_example_hot_reloads_with_the_client_installed_alone(
    client_venv: Path, service_factory, admin_token: str, tmp_path: Path
) -> None:
    service = service_factory()
    # As the README: make run leaves the admin secret in svc/.admin-token, and
    # `export CONFIGSVC_TOKEN=$(cat svc/.admin-token)` hands it to greeter.py and the CLI.
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / ".admin-token").write_text(admin_token + "\n")
    token = (tmp_path / "svc" / ".admin-token").read_text().strip()
    env = {**os.environ, "CONFIGSVC_URL": service.url, "CONFIGSVC_TOKEN": token}
    (tmp_path / "greeter.py").write_text(_readme_example())
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.post(f"{service.url}/api/v1/applications", json={"name": "greeter"}) as created,
    ):
        assert created.status == 201
    await _put(client_venv, env, '{"greeting": "hello"}')
    greeter = await asyncio.create_subprocess_exec(
        client_venv / "python", "greeter.py", cwd=tmp_path, env=env, stdout=subprocess.PIPE
    )
    try:
        assert await _line(greeter) == "hello"
        await _put(client_venv, env, '{"greeting": "bonjour"}')
        assert await _line(greeter) == "settings: {'greeting': 'hello'} -> {'greeting': 'bonjour'}"
        assert await _line(greeter) == "bonjour"
    finally:
        greeter.kill()
        await greeter.wait()


METADATA_CHECK = (
    "import importlib.metadata as m, json\n"
    "d = m.distribution('configsvc-client')\n"
    "licenses = [f for f in d.files if f.name == 'LICENSE']\n"
    "print(json.dumps({'meta': {k: d.metadata.get_all(k) for k in d.metadata.keys()},\n"
    "    'license': [f.read_text() for f in licenses]}))\n"
)


def test_the_installed_client_says_its_license_and_what_it_is(client_venv: Path) -> None:
    """What pip and PyPI show: the MIT license (its text shipped in the wheel), the README as
    the description, and classifiers."""
    result = subprocess.run(
        [client_venv / "python", "-c", METADATA_CHECK], capture_output=True, text=True,
        check=True, cwd=client_venv,
    )  # fmt: skip
    found = json.loads(result.stdout)
    meta = found["meta"]
    assert meta["License-Expression"] == ["MIT"]
    [license_text] = found["license"]
    assert license_text.startswith("MIT License")
    assert license_text == (CLIENT_DIR.parents[1] / "LICENSE").read_text()
    assert meta["Description-Content-Type"] == ["text/markdown"]
    assert "ConfigClient" in (CLIENT_DIR / "README.md").read_text()
    assert "Typing :: Typed" in meta["Classifier"]
    assert "Programming Language :: Python :: 3.11" in meta["Classifier"]
