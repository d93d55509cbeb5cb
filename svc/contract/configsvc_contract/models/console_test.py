from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import console


def test_a_session_body_may_leave_the_token_to_the_header() -> None:
    assert console.SessionIn.model_validate({}).token is None
    with pytest.raises(pydantic.ValidationError):
        console.SessionIn.model_validate({"token": "cfs_\x00"})


def test_a_search_hit_says_where_it_matched() -> None:
    with pytest.raises(pydantic.ValidationError):
        console.SearchMatch.model_validate({"where": "elsewhere", "path": None, "text": "x"})
