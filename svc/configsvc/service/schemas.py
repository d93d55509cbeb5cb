"""JSON Schemas (draft 2020-12): checking one, compiling it, and validating configurations.

The validator is jsonschema-rs: it passes every draft 2020-12 case of the official test suite
that needs no network (the pure-Python ``jsonschema`` fails three groups: ``1.0`` is not an
integer once numbers are Decimals, no ``\\p{L}`` in patterns, no custom vocabularies), keeps
Decimal numbers exact (``maximum``, ``multipleOf``), and is about 50 times faster. ``format``
is an annotation, as the draft's default says: it never fails a configuration.

The server never fetches anything: every ``$ref`` must be local (``#...``), and the resolver
refuses whatever is not in the schema itself. Compiled validators are kept per worker
(service/validators.py), keyed by schema id and version (a committed version never changes),
and dropped when the change feed says their schema changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any, NoReturn

import asyncpg
import jsonschema_rs

from configsvc import errors
from configsvc.service import validators, writing
from configsvc.store import schemas as store

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Errors kept per configuration when a forced schema change leaves it invalid.
STORED_ERRORS_MAX = 100
_REFERENCES = ("$ref", "$dynamicRef")
# Keywords whose values are data, not schemas: a "$ref" member in there refers to nothing. (A
# property named like one is skipped too; a remote reference there still fails to compile.)
_DATA = frozenset({"const", "enum", "examples", "default"})


def _refuse(uri: str) -> NoReturn:
    raise ValueError(f"{uri} is not in this schema: only local references (#...) are allowed")


_META = jsonschema_rs.validator_for({"$ref": DIALECT}, retriever=_refuse)


def pointer(prefix: str, parts: Iterable[str | int]) -> str:
    """A JSON pointer (RFC 6901) below ``prefix``, without the leading slash."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/".join([prefix, *escaped] if prefix else escaped)


def _keyword(schema_path: Iterable[str | int]) -> str:
    names = [part for part in schema_path if isinstance(part, str)]
    return names[-1] if names else "schema"


def violation(error: jsonschema_rs.ValidationError, prefix: str) -> dict[str, Any]:
    """``{"field", "keyword", "message"}``: ``field`` points into the request body."""
    return {
        "field": pointer(prefix, error.instance_path),
        "keyword": _keyword(error.schema_path),
        "message": error.message,
    }


def _reference_problem(key: str, value: Any) -> str | None:
    if key in _REFERENCES and isinstance(value, str) and not value.startswith("#"):
        return f"{value!r}: only local references (#...) are allowed"
    if key == "$schema" and value not in (DIALECT, DIALECT + "#"):
        return f"must be {DIALECT!r} (draft 2020-12), if given"
    return None


def _remote_references(value: Any) -> Iterator[dict[str, Any]]:
    """Every ``$ref``/``$dynamicRef`` that is not local, and a ``$schema`` of another draft."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                problem = _reference_problem(key, child)
                if problem is not None:
                    yield {"field": pointer("", (*where, key)), "keyword": key, "message": problem}
                if key not in _DATA:
                    stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, i)) for i, child in enumerate(item))


def compile_checked(schema: dict[str, Any]) -> validators.Validator:
    """The schema compiled, or SchemaInvalid naming each problem (a pointer into the schema):
    remote references, what the 2020-12 meta-schema refuses, then what cannot compile (a bad
    regular expression, a local reference to nothing)."""
    found = list(_remote_references(schema))
    found += [violation(error, "") for error in _META.iter_errors(schema)]
    if found:
        raise errors.SchemaInvalid(found, "the schema is not a valid draft 2020-12 JSON Schema")
    try:
        return compile_stored(schema)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        field = pointer("", getattr(exc, "instance_path", ()))
        message = str(exc).splitlines()[0]
        raise errors.SchemaInvalid(
            [{"field": field, "keyword": "schema", "message": message}],
            "the schema does not compile",
        ) from exc


def compile_stored(schema: dict[str, Any]) -> validators.Validator:
    """A schema that was checked when it was stored."""
    return validators.Validator(schema, retriever=_refuse)


def violations(
    validator: validators.Validator, config: Any, prefix: str = "config"
) -> list[dict[str, Any]]:
    """Every way ``config`` fails, in the library's order; empty if it is valid."""
    return [violation(error, prefix) for error in validator.iter_errors(config)]


async def validator(
    conn: asyncpg.Connection, cache: validators.Validators | None, key: validators.Key
) -> validators.Validator:
    """The compiled schema ``key`` (committed: cached), from ``cache`` or from the database."""
    found = None if cache is None else cache.get(key)
    if found is None:
        found = compile_stored(await store.body(conn, *key))
        if cache is not None:
            cache.put(key, found)
    return found


async def standing(
    conn: asyncpg.Connection, cache: validators.Validators | None, config: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """How a configuration (as the API shows it) fares against the schema that covers it now:
    None without a schema, else its violations (empty: valid)."""
    key = await store.for_configuration(conn, config["application_id"], config["name"])
    if key is None:
        return None
    return violations(await validator(conn, cache, key), config["config"])


def status(found: list[dict[str, Any]] | None) -> tuple[str, list[dict[str, Any]] | None]:
    """(schema_status, schema_errors as stored) for :func:`standing`'s answer."""
    if found is None:
        return "none", None
    return ("invalid", found[:STORED_ERRORS_MAX]) if found else ("valid", None)


async def check_written(
    conn: asyncpg.Connection, cache: validators.Validators | None, written: list[dict[str, Any]],
    label: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Validate configurations a write has just written (in its transaction, which holds their
    application row FOR SHARE from here to commit, so no schema change slips in between).

    Returns them with their new ``schema_status``, and every violation (with the
    ``configuration_id`` if ``label``); records the standings that changed.
    """
    shown, found, changed = [], [], []
    for config in written:
        problems = await standing(conn, cache, config)
        if problems and label:
            problems = [{**p, "configuration_id": config["id"]} for p in problems]
        found += problems or []
        now, stored = status(problems)
        if (now, stored) != (config["schema_status"], config["schema_errors"] or None):
            changed.append((config["id"], now, stored))
        shown.append({**config, "schema_status": now, "schema_errors": stored or []})
    if changed and not found:
        await store.set_status(conn, changed)
    return shown, found


async def validated(
    conn: asyncpg.Connection, write: writing.Write, change: writing.Change
) -> writing.Change:
    """Check every configuration ``change`` writes against its schema, in the write path: a
    SchemaInvalid with all violations (a dry run notes it in the change instead, like a schema
    change's own refusal); their new standing, in the change."""
    if change.invalid is not None and not write.dry_run:
        raise change.invalid
    many = change.op == "rolled_back"
    if change.op not in ("created", "updated", "restored") and not many:
        return change
    written = change.resource["configurations"] if many else [change.resource]
    shown, found = await check_written(conn, write.validators, written, many)
    invalid = change.invalid
    if found:
        invalid = errors.SchemaInvalid(found)
        if not write.dry_run:
            raise invalid
    resource = {**change.resource, "configurations": shown} if many else shown[0]
    moves = None if change.versions is None else _restated(change.versions, shown)
    return dataclasses.replace(change, resource=resource, versions=moves, invalid=invalid)


def _restated(
    moves: tuple[tuple[str, dict[str, Any]], ...], shown: list[dict[str, Any]]
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The version rows of a rollback, with each configuration's new standing."""
    by_id = {config["id"]: config for config in shown}
    return tuple((op, by_id.get(resource["id"], resource)) for op, resource in moves)
