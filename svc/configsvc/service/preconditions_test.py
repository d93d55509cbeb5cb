"""The version a write locked against the one If-Match names."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import preconditions


def test_a_gone_resource_is_not_found_a_stale_one_precondition_failed() -> None:
    with pytest.raises(errors.NotFound, match="no configuration with id c1"):
        preconditions.precondition(None, None, "configuration", "c1")
    with pytest.raises(errors.PreconditionFailed, match="configuration c1 has changed"):
        preconditions.precondition(2, 1, "configuration", "c1")
    with pytest.raises(errors.PreconditionFailed):
        preconditions.precondition(2, frozenset({1, 3}), "configuration", "c1")
    preconditions.precondition(2, None, "configuration", "c1")  # no If-Match: any version
    preconditions.precondition(2, 2, "configuration", "c1")
    preconditions.precondition(2, frozenset({1, 2}), "configuration", "c1")
