"""Compiling and validating schemas: the official test suite's cases, exact numbers, the cache."""

from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any

import pytest

from configsvc import errors
from configsvc.service import schemas

SUITE = Path(__file__).with_name("testdata") / "draft2020-12"


def _cases() -> list[Any]:
    found = []
    for path in sorted(SUITE.glob("*.json")):
        groups = json.loads(path.read_text("utf-8"), parse_float=decimal.Decimal)
        found += [pytest.param(g, id=f"{path.stem}: {g['description']}") for g in groups]
    return found


@pytest.mark.parametrize("group", _cases())
def test_the_official_suite_through_the_service_path(group: dict[str, Any]) -> None:
    """Every case as the API would run it: schema checked and compiled, numbers as Decimals.
    A schema that refers to another document is refused instead: nothing is ever fetched."""
    schema = group["schema"]
    if not isinstance(schema, dict):
        validator = schemas.compile_stored(schema)
    elif list(schemas._remote_references(schema)):
        with pytest.raises(errors.SchemaInvalid):
            schemas.compile_checked(schema)
        return
    else:
        validator = schemas.compile_checked(schema)
    for case in group["tests"]:
        found = schemas.violations(validator, case["data"])
        assert (found == []) == case["valid"], (case["description"], found)


def test_numbers_are_compared_exactly() -> None:
    d = decimal.Decimal
    validator = schemas.compile_checked(
        {"properties": {"rate": {"maximum": 100, "multipleOf": d("0.01")},
                        "count": {"type": "integer"}}}
    )  # fmt: skip
    assert schemas.violations(validator, {"rate": d("100.00"), "count": d("3.0")}) == []
    found = schemas.violations(validator, {"rate": d("100.0000000000000000001")})
    assert sorted(v["keyword"] for v in found) == ["maximum", "multipleOf"]
    assert schemas.violations(validator, {"count": int("9" * 4000)}) == []


def test_violations_point_into_the_body_and_escape_names() -> None:
    validator = schemas.compile_checked(
        {"properties": {"a/b": {"properties": {"c~d": {"type": "string"}}}},
         "additionalProperties": False, "required": ["z"]}
    )  # fmt: skip
    found = schemas.violations(validator, {"a/b": {"c~d": 1}, "x": [1]})
    assert sorted((v["field"], v["keyword"]) for v in found) == [
        ("config", "additionalProperties"), ("config", "required"),
        ("config/a~1b/c~0d", "type"),
    ]  # fmt: skip


def test_format_is_an_annotation() -> None:
    validator = schemas.compile_checked({"format": "email"})
    assert schemas.violations(validator, "not an address") == []


def test_data_that_looks_like_a_reference_is_data() -> None:
    validator = schemas.compile_checked({"const": {"$ref": "http://example.com/"}})
    assert schemas.violations(validator, {"$ref": "http://example.com/"}) == []
    with pytest.raises(errors.SchemaInvalid, match="is not present"):
        schemas.compile_checked({"properties": {"enum": {"$ref": "other.json"}}})


def test_a_remote_reference_is_refused_without_a_request() -> None:
    with pytest.raises(errors.SchemaInvalid) as refused:
        schemas.compile_checked({"$defs": {"a": {"$dynamicRef": "http://127.0.0.1:9/x"}}})
    assert refused.value.violations[0]["field"] == "$defs/a/$dynamicRef"
    # Even one that slipped into storage cannot reach out: the resolver refuses it.
    with pytest.raises(ValueError, match="only local references"):
        schemas.compile_stored({"$ref": "http://127.0.0.1:9/x"})
