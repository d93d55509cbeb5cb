from __future__ import annotations

import pydantic
import pytest

from configsvc_client import models


@pytest.mark.parametrize("name", ["", " ", "\t\n", "x" * 257, 5, None])
def test_names_must_be_non_blank_strings_of_at_most_256(name) -> None:
    with pytest.raises(pydantic.ValidationError):
        models.ApplicationIn.model_validate({"name": name})


def test_inputs_refuse_unknown_fields_and_non_object_configs() -> None:
    with pytest.raises(pydantic.ValidationError):
        models.ApplicationIn.model_validate({"name": "a", "extra": 1})
    with pytest.raises(pydantic.ValidationError):
        models.ConfigurationIn.model_validate({"application_id": "a", "name": "n", "config": []})


def test_feed_messages_are_told_apart_by_type() -> None:
    adapter: pydantic.TypeAdapter[models.ServerMessage] = pydantic.TypeAdapter(models.ServerMessage)
    msg = adapter.validate_python({"type": "synced", "application_id": "A", "revision": 3})
    assert isinstance(msg, models.Synced)
