from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import audit

ENTRY = {"id": 1, "at": "2026-01-01T00:00:00Z", "actor": {"id": "t", "name": "ci"},
         "remote_addr": None, "user_agent": None, "request_id": None, "action": "create",
         "target": {"kind": "application", "id": None}, "application_id": None, "outcome": "ok",
         "revision": 3, "reason": None, "detail": None}  # fmt: skip


def test_an_entry_says_who_and_how_it_ended() -> None:
    entry = audit.AuditEntry.model_validate(ENTRY)
    assert entry.actor == audit.Actor(id="t", name="ci")
    with pytest.raises(pydantic.ValidationError):
        audit.AuditEntry.model_validate({**ENTRY, "outcome": "maybe"})
