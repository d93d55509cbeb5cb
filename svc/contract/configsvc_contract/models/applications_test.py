from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import applications


def test_an_application_body_refuses_unknown_fields_and_coercion() -> None:
    with pytest.raises(pydantic.ValidationError):
        applications.ApplicationIn.model_validate({"name": "a", "extra": 1})
    with pytest.raises(pydantic.ValidationError):
        applications.ApplicationIn.model_validate({"name": "a", "comments": 5})
    assert applications.ApplicationIn.model_validate({"name": "a"}).comments == ""
