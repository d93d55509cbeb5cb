"""The import rules, read from the source with ``ast``, so a violation fails the build.

- Imports point one way: api -> service -> store -> db; live -> store/db. Nothing in store/ or
  db/ imports api/, live/, service/ or ops/; errors and settings import no other module of the
  service; handlers (api/) never import asyncpg. ``service/`` is held to its rule from the
  moment it exists. ``ops/metrics.py`` imports no module of the service: every layer counts
  through it (db/ and store/ included: it is the one module of ops/ they may import), so
  whatever it imported every layer would load.
- The client (``configsvc_client``) imports nothing from ``configsvc``; the server imports
  nothing from the client (both take the wire models from the contract), its tests aside.
- The contract (``configsvc_contract``) imports nothing but pydantic and the standard library:
  it is the one distribution both the server and the client depend on.
- No module uses another module's private names (``from m import _x``, ``m._x``); a test may
  use those of the module it tests.
- No import circle anywhere (server, client, bench), type-checking and function-level imports
  included: two modules that need each other are one job, or share a third module.
- No module over 300 lines (tests and generated files aside), the TypeScript client's and the
  console's too: a longer one holds several jobs.
- A constant is defined once: the id pattern lives in ``configsvc_contract.models.fields``
  (``models.ID_PATTERN``), and no two modules define the same string constant.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from configsvc import settings as settings_mod

ROOTS = {
    "configsvc": settings_mod.SVC_DIR / "configsvc",
    "configsvc_contract": settings_mod.SVC_DIR / "contract" / "configsvc_contract",
    "configsvc_client": settings_mod.SVC_DIR / "clients" / "python" / "configsvc_client",
    "bench": settings_mod.SVC_DIR / "bench",
}
SUBPACKAGES = ("api", "service", "store", "db", "live", "ops", "devtools")
# What each part of the service must not import (its layer, or a module of the package root).
FORBIDDEN = {
    "db": {"api", "service", "store", "live", "ops"},
    "store": {"api", "service", "live", "ops"},
    "service": {"api", "live", "ops"},
    # live may read ops/ (operational state it shares with the app, such as an outage).
    "live": {"api", "service"},
    # auth is used by api and live: it never reaches back up to them.
    "auth": {"api", "service", "live"},
    "errors": {*SUBPACKAGES, "app", "settings"},
    "settings": {*SUBPACKAGES, "app", "errors"},
    # A module rather than a layer: the rule of this one module.
    "configsvc.ops.metrics": {*SUBPACKAGES, "auth", "app", "errors", "settings"},
}
# Imported by every layer (a counter is not a dependency on what is above).
EVERY_LAYER_MAY_IMPORT = "configsvc.ops.metrics"
ULID_ALPHABET = "0-9A-HJKMNP-TV-Z"  # Crockford base32: the heart of the id pattern
ID_PATTERN_HOME = "configsvc_contract.models.fields"
# What the contract may import besides itself: it goes wherever the server and the client go.
CONTRACT_MAY_IMPORT = {"pydantic", "pydantic_core", *sys.stdlib_module_names}


def _module_name(root: str, path: Path) -> str:
    parts = path.relative_to(ROOTS[root]).with_suffix("").parts
    return ".".join([root, *(parts[:-1] if parts[-1] == "__init__" else parts)])


def sources() -> dict[str, str]:
    """Every module of the service, the client and the bench: dotted name to source."""
    return {
        _module_name(root, path): path.read_text("utf-8")
        for root, directory in ROOTS.items()
        for path in sorted(directory.rglob("*.py"))
    }


def is_test(module: str) -> bool:
    return module.endswith(("_test", ".conftest"))


def imported(tree: ast.AST) -> Iterator[tuple[str, str | None, int]]:
    """(module, name imported from it or None, line) for every import, however nested."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from ((node.module, alias.name, node.lineno) for alias in node.names)


def layer(module: str) -> str | None:
    """``api`` for ``configsvc.api.routes``, ``errors`` for ``configsvc.errors``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "configsvc" and len(parts) > 1 else None


def _ruled(module: str) -> str:
    """The key of the rule a module follows: its own name if it has one, else its layer."""
    return module if module in FORBIDDEN else layer(module) or ""


def _across_distributions(module: str, target: str) -> str | None:
    """Why ``module`` may not import ``target``, if the rule between distributions says so."""
    source, top = module.split(".")[0], target.split(".")[0]
    if source == "configsvc_client" and top == "configsvc":
        return "the client imports nothing from the server"
    if source == "configsvc" and top == "configsvc_client":
        return "the server imports nothing from the client: the models are the contract's"
    if source == "configsvc_contract" and top not in {source, *CONTRACT_MAY_IMPORT}:
        return "the contract imports nothing but pydantic and the standard library"
    return None


def layering_violations(modules: dict[str, str]) -> list[str]:
    found = []
    for module, source in modules.items():
        if is_test(module):
            continue
        for target, name, line in imported(ast.parse(source)):
            full = f"{target}.{name}" if name else target
            where = f"{module}:{line} imports {full}"
            if (why := _across_distributions(module, target)) is not None:
                found.append(f"{where}: {why}")
            elif full != EVERY_LAYER_MAY_IMPORT and layer(full) in FORBIDDEN.get(
                _ruled(module), set()
            ):
                found.append(f"{where}: {_ruled(module)} must not depend on {layer(full)}")
            elif layer(module) == "api" and target.split(".")[0] == "asyncpg":
                found.append(f"{where}: handlers never see the driver")
    return found


def _tested_by(module: str) -> str:
    """The module a test module tests: ``a.b`` for ``a.b_test``."""
    return module.removesuffix("_test")


def _module_aliases(tree: ast.AST, modules: dict[str, str]) -> dict[str, str]:
    """Local names bound to modules of ours: ``{"settings_mod": "configsvc.settings"}``."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_name_violations(modules: dict[str, str]) -> list[str]:
    found = []
    for module, source in modules.items():
        tree = ast.parse(source)
        own = {module, _tested_by(module)}
        for target, name, line in imported(tree):
            if name and _private(name) and target in modules and target not in own:
                found.append(f"{module}:{line} imports {name} from {target}")
        aliases = _module_aliases(tree, modules)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in aliases
                and aliases[node.value.id] not in own
            ):  # fmt: skip
                found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def _string_constants(source: str) -> Iterator[tuple[str, str, int]]:
    """(name, value, line) of every module-level ``NAME = "string"``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    yield target.id, node.value.value, node.lineno


def duplicate_constant_violations(modules: dict[str, str]) -> list[str]:
    found, first = [], {}
    for module, source in modules.items():
        # Development tools name things of their own (the local database is "configsvc" too).
        if is_test(module) or ".devtools." in module:
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Constant) and isinstance(node.value, str)
                and ULID_ALPHABET in node.value and module != ID_PATTERN_HOME
            ):  # fmt: skip
                found.append(f"{module}:{node.lineno}: use {ID_PATTERN_HOME}.ID_PATTERN")
        for name, value, line in _string_constants(source):
            where = first.setdefault(value.strip(), f"{module}.{name}")
            if len(value.strip()) >= 8 and where != f"{module}.{name}":
                found.append(f"{module}:{line}: {name} repeats {where}; import it from there")
    return found


def _edges(module: str, source: str, modules: dict[str, str]) -> set[str]:
    """The modules of ours that ``module`` imports: ``from a import b`` names the module
    ``a.b`` when there is one (as Python loads it), else ``a``."""
    found = set()
    for target, name, _ in imported(ast.parse(source)):
        full = f"{target}.{name}" if name else target
        found.add(full if full in modules else target)
    return {each for each in found if each in modules and each != module}


def circle_violations(modules: dict[str, str]) -> list[str]:
    """Every import circle, as the modules in it (Tarjan's strongly connected components,
    iteratively: the graph has hundreds of modules)."""
    graph = {m: sorted(_edges(m, s, modules)) for m, s in modules.items() if not is_test(m)}
    graph = {m: [t for t in targets if t in graph] for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, at = work.pop()
            if at == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if at < len(targets):
                work.append((node, at + 1))
                target = targets[at]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(f"import circle: {' <-> '.join(sorted(component))}")
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(circles)


RULES = [
    layering_violations, private_name_violations, duplicate_constant_violations,
    circle_violations,
]  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_code_follows_the_rule(rule) -> None:
    assert rule(sources()) == []


MAX_LINES = 300
# Written by a script from the served OpenAPI document (clients/typescript/scripts/).
GENERATED = {"clients/typescript/src/generated.ts"}


CODE = (
    "configsvc/**/*.py", "clients/*/*/**/*.py", "contract/**/*.py", "bench/**/*.py",
    "clients/typescript/src/*.ts", "clients/typescript/scripts/*.mjs",
    "configsvc/api/static/**/*.js",
)  # fmt: skip


def long_modules(files: dict[str, str]) -> list[str]:
    """Every module (by path) over MAX_LINES lines, tests and generated files aside."""
    return sorted(
        f"{path}: {text.count(chr(10))} lines (at most {MAX_LINES})"
        for path, text in files.items()
        if text.count("\n") > MAX_LINES and path not in GENERATED
        and not path.endswith(("_test.py", "conftest.py", ".test.mjs"))
    )  # fmt: skip


def _code_files() -> dict[str, str]:
    svc = settings_mod.SVC_DIR
    found = {}
    for pattern in CODE:
        for path in svc.glob(pattern):
            if ".venv" not in path.parts and "node_modules" not in path.parts:
                found[path.relative_to(svc).as_posix()] = path.read_text("utf-8")
    return found


def test_no_module_is_over_300_lines() -> None:
    files = _code_files()
    assert {"configsvc/app.py", "clients/typescript/src/view.ts"} <= set(files)
    assert long_modules(files) == []


def test_a_long_module_is_caught_and_a_long_test_or_generated_file_is_not() -> None:
    long = "x\n" * 301
    files = {"a/b.py": long, "a/b_test.py": long, "a/c.py": "x\n" * 300,
             "clients/typescript/src/generated.ts": long}  # fmt: skip
    assert long_modules(files) == ["a/b.py: 301 lines (at most 300)"]


def test_every_package_is_read() -> None:
    modules = sources()
    expected = {"configsvc.api.routes", "configsvc.db.database", "configsvc_client.api"}
    assert {ID_PATTERN_HOME, "configsvc_contract.models", "configsvc_contract.exactjson"} <= set(
        modules
    )
    assert expected <= set(modules)
    assert "bench.report" in modules


# Each rule fails on a violation (so a passing run above means something).
@pytest.mark.parametrize(
    ("rule", "modules", "violation"),
    [
        (layering_violations, {"configsvc.store.x": "from configsvc.api import routes"},
         "configsvc.store.x:1 imports configsvc.api.routes: store must not depend on api"),
        (layering_violations, {"configsvc.db.x": "import configsvc.live.feed"},
         "configsvc.db.x:1 imports configsvc.live.feed: db must not depend on live"),
        (layering_violations, {"configsvc.store.x": "def f():\n    from configsvc import service"},
         "configsvc.store.x:2 imports configsvc.service: store must not depend on service"),
        (layering_violations, {"configsvc.service.w": "from configsvc.api.bodies import x"},
         "configsvc.service.w:1 imports configsvc.api.bodies.x: service must not depend on api"),
        (layering_violations, {"configsvc.live.x": "from configsvc.service import writes"},
         "configsvc.live.x:1 imports configsvc.service.writes: live must not depend on service"),
        (layering_violations, {"configsvc.errors": "from configsvc.db import database"},
         "configsvc.errors:1 imports configsvc.db.database: errors must not depend on db"),
        (layering_violations, {"configsvc_client.api": "from configsvc import errors"},
         "configsvc_client.api:1 imports configsvc.errors: the client imports nothing from"
         " the server"),
        (layering_violations, {"configsvc.api.x": "from configsvc_client import models"},
         "configsvc.api.x:1 imports configsvc_client.models: the server imports nothing from the"
         " client: the models are the contract's"),
        (layering_violations, {"configsvc_contract.models.x": "import aiohttp"},
         "configsvc_contract.models.x:1 imports aiohttp: the contract imports nothing but"
         " pydantic and the standard library"),
        (layering_violations, {"configsvc_contract.x": "from configsvc_client import errors"},
         "configsvc_contract.x:1 imports configsvc_client.errors: the contract imports nothing"
         " but pydantic and the standard library"),
        (layering_violations, {"configsvc.ops.metrics": "from configsvc.api import problems"},
         "configsvc.ops.metrics:1 imports configsvc.api.problems: configsvc.ops.metrics must"
         " not depend on api"),
        (layering_violations, {"configsvc.db.x": "from configsvc.ops import health"},
         "configsvc.db.x:1 imports configsvc.ops.health: db must not depend on ops"),
        (layering_violations, {"configsvc.api.routes": "import asyncpg"},
         "configsvc.api.routes:1 imports asyncpg: handlers never see the driver"),
        (private_name_violations, {"a.x": "from a.y import _helper", "a.y": ""},
         "a.x:1 imports _helper from a.y"),
        (private_name_violations, {"a.x": "from a import y as m\nm._helper()", "a.y": ""},
         "a.x:2 uses a.y._helper"),
        (private_name_violations, {"a.x_test": "from a import y\ny._helper()", "a.y": ""},
         "a.x_test:2 uses a.y._helper"),
        (duplicate_constant_violations, {"a.x": 'ID = r"^[0-9A-HJKMNP-TV-Z]{26}$"'},
         "a.x:1: use configsvc_contract.models.fields.ID_PATTERN"),
        (duplicate_constant_violations, {"a.x": 'C = "configsvc_changes"',
                                         "a.y": 'CHANNEL = "configsvc_changes"'},
         "a.y:1: CHANNEL repeats a.x.C; import it from there"),
        (layering_violations, {"configsvc.auth.x": "from configsvc.api import bodies"},
         "configsvc.auth.x:1 imports configsvc.api.bodies: auth must not depend on api"),
        (circle_violations, {"a.x": "from a import y", "a.y": "import a.z", "a.z": "import a.x"},
         "import circle: a.x <-> a.y <-> a.z"),
        (circle_violations, {"a.x": "from a.y import f",
                             "a.y": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                    "    from a.x import C"},
         "import circle: a.x <-> a.y"),
    ],
)  # fmt: skip
def test_a_violation_is_caught(rule, modules: dict[str, str], violation: str) -> None:
    assert rule(modules) == [violation]


def test_what_is_allowed_passes() -> None:
    modules = {
        "configsvc.api.routes": "from configsvc.service import w\nfrom configsvc.store import x",
        "configsvc.live.feed": "from configsvc.store import x\nfrom configsvc.db import db",
        "a.y_test": "from a import y\ny._helper()",  # a test may use its own module's privates
        "a.y": "def _helper(): ...\nSHORT = 'id'",
        "a.z": "SHORT = 'id'\nfrom configsvc.api import routes",
        "configsvc_contract.models.x": "import re\nfrom pydantic import BaseModel\n"
        "from configsvc_contract.models import fields",
        "configsvc.api.bodies": "from configsvc_contract import models",
        "configsvc_client.api": "from configsvc_contract import exactjson",
        "configsvc.api.x_test": "from configsvc_client import api",  # a test may drive the client
    }
    assert [rule(modules) for rule in RULES] == [[], [], [], []]


def test_a_circle_through_a_module_that_only_tests_is_no_circle_and_each_is_named_once() -> None:
    modules = {
        "a.x": "from a import y", "a.y": "from a import z", "a.z": "", "a.z_test": "import a.x",
        "b.p": "import b.q", "b.q": "import b.p", "c.one": "from c import one",
    }  # fmt: skip
    assert circle_violations(modules) == ["import circle: b.p <-> b.q"]


def test_every_layer_may_count_through_the_metrics_module() -> None:
    assert layering_violations({"configsvc.db.x": "from configsvc.ops import metrics"}) == []
