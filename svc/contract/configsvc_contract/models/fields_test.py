from __future__ import annotations

import re

import pydantic
import pytest

from configsvc_contract.models import fields


def test_the_id_pattern_is_a_ulid() -> None:
    assert re.match(fields.ID_PATTERN, "01JDQ2Z8B6M4R1V3XK7N9P0TQS")
    assert not re.match(fields.ID_PATTERN, "01JDQ2Z8B6M4R1V3XK7N9P0TQI")  # no I in base32


def test_a_config_object_is_documented_as_json_and_validated_as_a_dict() -> None:
    adapter: pydantic.TypeAdapter[dict[str, object]] = pydantic.TypeAdapter(fields.ConfigObject)
    assert adapter.validate_python({"a": object}) == {"a": object}  # documents only
    schema = adapter.json_schema()
    assert schema["type"] == "object"
    assert schema["propertyNames"] == {"pattern": fields.NO_NUL}


def test_an_input_refuses_what_it_does_not_know() -> None:
    class Body(fields.Input):
        n: int

    with pytest.raises(pydantic.ValidationError):
        Body.model_validate({"n": "1"})
    with pytest.raises(pydantic.ValidationError):
        Body.model_validate({"n": 1, "m": 2})
