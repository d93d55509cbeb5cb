from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from configsvc.store import resources


def test_timestamps_are_rfc3339_in_utc() -> None:
    local = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=timezone(timedelta(hours=2)))
    assert resources.timestamp(local) == "2026-01-02T01:04:05.000600Z"


def test_new_ids_are_ulids_in_creation_order() -> None:
    ids = [resources.new_id() for _ in range(3)]
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert len(set(ids)) == 3
