"""A holder's receipts: counted per revision, the latest time kept, errors set aside."""

import types

from bench import receipts


def test_receipts_count_changes_per_revision_and_keep_the_last_time() -> None:
    got = receipts.Receipts()
    a, b = types.SimpleNamespace(last_revision=0), types.SimpleNamespace(last_revision=0)
    change = b'{"type": "change", "application_id": "X", "revision": 7, "op": "updated"}'
    got.on_text(a, change, 1.0)  # type: ignore[arg-type]
    got.on_text(b, change, 2.5)  # type: ignore[arg-type]
    assert got.count(7) == 2
    assert got.by_revision[7][1] == 2.5
    assert got.count(8) == 0
    assert a.last_revision == 7
    got.on_text(a, b'{"type":"error","code":"not_found"}', 3.0)  # type: ignore[arg-type]
    assert got.errors == ['{"type":"error","code":"not_found"}']
