"""The SQL a release runs, kept in ``db/previous_release.sql`` so the next one can check it.

During a rolling deploy the previous release runs on the newest schema;
``db/previous_release_test.py`` prepares and runs each of these statements against it. When a
release is cut, refresh the file from that release's commit and commit it::

    python -m configsvc.devtools.releasesql --rev v1.4.0     # or no --rev: the working tree

Every string literal in the service's modules (tests and devtools aside) that is a SELECT,
INSERT, UPDATE, DELETE or WITH statement (keywords in capitals, as this code writes SQL) is
collected, named after its constant (or its line).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from configsvc import settings as settings_mod
from configsvc.db import sqlscript

SNAPSHOT = settings_mod.SVC_DIR / "configsvc" / "db" / "previous_release.sql"
_DML = re.compile(r"^(SELECT|INSERT|UPDATE|DELETE|WITH)\s")
_NAME = re.compile(r"^-- name: (\S+)\n", re.MULTILINE)
_LAST_MIGRATION = re.compile(r"^-- last migration: (\d+)$", re.MULTILINE)
# Wherever that release kept its migrations (they moved into db/ once).
_MIGRATION = re.compile(r"^configsvc/(?:\w+/)*migrations/(\d{4})_\w+\.sql$")
HEADER = """\
-- The SQL statements of the previous release, which keeps running on the newest schema during
-- a rolling deploy: db/previous_release_test.py prepares and runs each of them there.
-- Written by `python -m configsvc.devtools.releasesql` from {source};
-- refresh it when a release is cut (see db/migrations/README.md). Do not edit by hand.
-- last migration: {migration}
"""


@dataclass(frozen=True)
class Statement:
    """One statement, and where it was found."""

    name: str  # where it was found: "configsvc/store/applications.py:GET"
    sql: str


def statements_in(path: str, source: str) -> list[Statement]:
    """The SQL statements written as string literals in one module's ``source``, in order."""
    tree = ast.parse(source)
    constants = {
        id(node.value): target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    # The pieces of an f-string are not statements of their own.
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    literals = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in pieces),
        key=lambda node: (node.lineno, node.col_offset),
    )
    return [
        Statement(f"{path}:{constants.get(id(node), node.lineno)}", node.value.strip())
        for node in literals
        if isinstance(node.value, str) and _DML.match(sqlscript.without_comments(node.value))
    ]


@dataclass(frozen=True)
class Snapshot:
    """A release's statements, and the last migration that release shipped."""

    migration: int
    statements: list[Statement]


def collect(rev: str | None = None) -> Snapshot:
    """The service at commit ``rev`` (None: the working tree): each statement once."""
    files = _files(rev)
    found: dict[str, Statement] = {}
    for path in filter(_counts, files):
        for statement in statements_in(path, _read(rev, path)):
            found.setdefault(statement.sql, statement)
    versions = [int(m.group(1)) for p in files if (m := _MIGRATION.match(p))]
    return Snapshot(max(versions, default=0), list(found.values()))


def _files(rev: str | None) -> list[str]:
    if rev is None:
        found = (settings_mod.SVC_DIR / "configsvc").rglob("*")
        return sorted(p.relative_to(settings_mod.SVC_DIR).as_posix() for p in found)
    return _git("ls-tree", "-r", "--name-only", rev, "configsvc").split()


def _read(rev: str | None, path: str) -> str:
    if rev is None:
        return (settings_mod.SVC_DIR / path).read_text("utf-8")
    return _git("show", f"{rev}:./{path}")


def _counts(path: str) -> bool:
    """A module the service runs: not a test, not a development tool."""
    return (
        path.endswith(".py")
        and not path.endswith("_test.py")
        and not path.startswith("configsvc/devtools/")
    )


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=settings_mod.SVC_DIR, capture_output=True, text=True, check=True
    ).stdout


def render(snapshot: Snapshot, source: str) -> str:
    """The snapshot file's text."""
    parts = [HEADER.format(source=source, migration=snapshot.migration)]
    parts += [f"\n-- name: {s.name}\n{s.sql};\n" for s in snapshot.statements]
    return "".join(parts)


def read(path: Path = SNAPSHOT) -> Snapshot:
    """A snapshot file, as :func:`render` wrote it."""
    text = path.read_text("utf-8")
    migration = _LAST_MIGRATION.search(text)
    if migration is None:
        raise ValueError(f"{path} has no '-- last migration: N' line")
    _, *pieces = _NAME.split(text)
    return Snapshot(
        int(migration.group(1)),
        [
            Statement(name, sql.strip().removesuffix(";"))
            for name, sql in zip(pieces[::2], pieces[1::2], strict=True)
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m configsvc.devtools.releasesql")
    parser.add_argument("--rev", help="the release's commit or tag (default: the working tree)")
    parser.add_argument("--output", type=Path, default=SNAPSHOT, help="default: %(default)s")
    args = parser.parse_args(argv)
    source = "the working tree"
    if args.rev is not None:
        commit = _git("rev-parse", "--short=12", f"{args.rev}^{{commit}}").strip()
        source = f"{args.rev}, commit {commit}"
    snapshot = collect(args.rev)
    args.output.write_text(render(snapshot, source), "utf-8")
    print(f"{len(snapshot.statements)} statements from {source} written to {args.output}")


if __name__ == "__main__":
    main()
