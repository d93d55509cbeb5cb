from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import schemas


def test_a_schema_document_is_a_json_object() -> None:
    assert schemas.SchemaDocument.model_validate({"type": "object"}).root == {"type": "object"}
    with pytest.raises(pydantic.ValidationError):
        schemas.SchemaDocument.model_validate([])
    assert schemas.SchemaDocument.model_json_schema()["type"] == "object"


def test_a_schema_reads_its_document_as_schema() -> None:
    read = schemas.Schema.model_validate(
        {"id": "0" * 26, "application_id": "0" * 26, "name": "*", "schema": {}, "version": 1,
         "revision": 1, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    )  # fmt: skip
    assert read.schema_ == {}
