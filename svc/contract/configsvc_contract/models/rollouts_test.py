from __future__ import annotations

from decimal import Decimal

import pydantic
import pytest

from configsvc_contract.models import rollouts

BODY = {"config": {}, "reason": "canary", "steps": [{"percent": 10}], "abort_on": {"rejected": 1}}


def test_whole_numbers_may_be_written_as_fractions_of_nothing() -> None:
    step = rollouts.RolloutStep.model_validate({"percent": 5.0, "hold_s": Decimal("60")})
    assert (step.percent, step.hold_s) == (5, 60)
    with pytest.raises(pydantic.ValidationError):
        rollouts.RolloutStep.model_validate({"percent": 5.5})


def test_labels_hold_no_nul_and_are_documented_so() -> None:
    with pytest.raises(pydantic.ValidationError, match="U\\+0000"):
        rollouts.RolloutIn.model_validate({**BODY, "labels": {"a\x00": "b"}})
    labels = rollouts.RolloutIn.model_json_schema()["properties"]["labels"]
    assert labels["propertyNames"]["maxLength"] == rollouts.LABEL_KEY_MAX


def test_a_reason_is_needed() -> None:
    with pytest.raises(pydantic.ValidationError):
        rollouts.RolloutIn.model_validate({**BODY, "reason": ""})
