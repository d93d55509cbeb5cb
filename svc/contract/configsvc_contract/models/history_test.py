from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import history


def test_a_diff_reads_from_as_from() -> None:
    diff = history.Diff.model_validate(
        {"from": 1, "to": 2, "patch": [], "name": {"from": "a", "to": "b"}, "comments": None}
    )
    assert (diff.from_, diff.to) == (1, 2)
    assert diff.name == history.FieldChange.model_validate({"from": "a", "to": "b"})
    assert diff.model_dump(by_alias=True)["from"] == 1


def test_a_rollback_goes_to_a_version_of_32_bits() -> None:
    with pytest.raises(pydantic.ValidationError):
        history.RollbackIn.model_validate({"to_version": 2**31})
    assert history.ApplicationRollbackIn.model_validate({"to_revision": 0}).empty_ok is False
