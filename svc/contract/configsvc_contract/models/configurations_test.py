from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import configurations

NOW = "2026-01-01T00:00:00Z"


def test_a_config_must_be_an_object() -> None:
    with pytest.raises(pydantic.ValidationError):
        configurations.ConfigurationIn.model_validate(
            {"application_id": "a", "name": "n", "config": []}
        )


def test_a_configuration_without_a_schema_says_none() -> None:
    read = configurations.Configuration.model_validate(
        {"id": "0" * 26, "application_id": "0" * 26, "name": "n", "comments": "", "config": {},
         "version": 1, "revision": 1, "created_at": NOW, "updated_at": NOW}
    )  # fmt: skip
    assert (read.schema_status, read.schema_errors) == ("none", [])
