from __future__ import annotations

import re

import pydantic
import pytest

from configsvc_contract.models import fields, tokens


def test_a_metrics_grant_is_documented_as_on_every_application_only() -> None:
    schema = tokens.Grant.model_json_schema()
    assert {"properties": {"application_id": {"const": "*"}}} in schema["anyOf"]
    with pytest.raises(pydantic.ValidationError, match="metrics"):
        tokens.Grant.model_validate({"application_id": "0" * 26, "access": "metrics"})


def test_a_grant_is_on_an_id_or_on_every_application() -> None:
    assert tokens.GRANT_TARGET_PATTERN == r"^(\*|[0-9A-HJKMNP-TV-Z]{26})$"
    assert fields.ID_PATTERN[1:-1] in tokens.GRANT_TARGET_PATTERN
    assert re.match(tokens.GRANT_TARGET_PATTERN, "*")
    assert not re.match(tokens.GRANT_TARGET_PATTERN, "**")


@pytest.mark.parametrize("when", [1893456000, "2030-01-01", "soon"])
def test_an_expiry_is_an_rfc_3339_date_time_with_a_zone(when) -> None:
    with pytest.raises(pydantic.ValidationError):
        tokens.TokenIn.model_validate({"name": "ci", "expires_at": when})


def test_an_expiry_is_kept_in_utc() -> None:
    body = tokens.TokenIn.model_validate({"name": "ci", "expires_at": "2030-01-01T05:00:00+05:00"})
    assert body.expires_at is not None
    assert body.expires_at.isoformat() == "2030-01-01T00:00:00+00:00"
    with pytest.raises(pydantic.ValidationError, match="9999"):
        tokens.TokenIn.model_validate({"name": "ci", "expires_at": "9999-12-31T23:59:59-05:00"})
