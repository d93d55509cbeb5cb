"""Production code never imports the developer tools (issue 10): they start databases."""

from __future__ import annotations

import ast
from pathlib import Path

from configsvc import settings as settings_mod

DEVTOOLS = "configsvc.devtools"


def _package(path: Path) -> str:
    return ".".join(path.relative_to(settings_mod.SVC_DIR).parts[:-1])


def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` (in ``package``) imports, absolute or relative, as a dotted name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.update(f"{base}.{alias.name}" for alias in node.names)
            names.add(base)
    return names


def _production_modules() -> list[Path]:
    roots = [settings_mod.SVC_DIR / "configsvc", settings_mod.SVC_DIR / "clients" / "python"]
    return [
        path
        for root in roots
        for path in root.rglob("*.py")
        if not path.name.endswith("_test.py")
        and path.name != "conftest.py"
        and "devtools" not in path.parts
    ]


def test_no_production_module_imports_the_devtools() -> None:
    offenders = {
        str(path.relative_to(settings_mod.SVC_DIR)): sorted(
            name
            for name in _imports(path, _package(path))
            if name == DEVTOOLS or name.startswith(DEVTOOLS + ".")
        )
        for path in _production_modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_check_sees_every_import_form(tmp_path: Path) -> None:
    """An absolute, a from- and a relative import of the devtools are all caught."""
    probe = tmp_path / "probe.py"
    probe.write_text("import configsvc.devtools.pgcluster\nfrom ..devtools import local\n")
    found = _imports(probe, "configsvc.api")
    assert "configsvc.devtools.pgcluster" in found
    assert "configsvc.devtools.local" in found
    assert len(_production_modules()) > 20
