"""The models package: one name space for every part of the contract."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from configsvc_contract import models

PARTS = sorted(p.stem for p in Path(models.__file__).parent.glob("*.py") if "_" not in p.stem)


def _public(module: str) -> set[str]:
    """The public names a module of the package defines (not those it imports)."""
    tree = ast.parse(Path(importlib.import_module(module).__file__ or "").read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return {name for name in defined if not name.startswith("_")}


def test_every_public_name_of_every_part_is_here_and_the_same() -> None:
    assert {"feed", "fields", "names"} <= set(PARTS)
    for part in PARTS:
        module = importlib.import_module(f"configsvc_contract.models.{part}")
        for name in _public(module.__name__):
            assert getattr(models, name) is getattr(module, name), f"{part}.{name}"
            assert name in models.__all__, f"{part}.{name}"


def test_what_the_single_module_had_is_still_here() -> None:
    old = ["ID_PATTERN", "comments_pattern", "name_pattern", "ConfigurationIn", "ServerMessage",
           "MAX_JSON_DEPTH", "REVISION_HEADER", "BaseModel", "Whole"]  # fmt: skip
    assert [name for name in old if not hasattr(models, name)] == []
