"""A cached entry is the exact body the database path would send, and counts what it keeps."""

from __future__ import annotations

from decimal import Decimal

from configsvc.live import entries

_CONFIG = {
    "id": "c1", "application_id": "a1", "name": "prod", "comments": "",
    "config": {"rate": Decimal("0.10"), "big": 2**70}, "version": 3,
}  # fmt: skip


def test_a_configuration_entry_keeps_numbers_exactly_and_counts_its_body_once() -> None:
    entry = entries.entry_of(entries.CONFIG, _CONFIG, 7)
    assert b'"rate":0.10' in entry.body
    assert str(2**70).encode() in entry.body
    assert (entry.version, entry.application_id, entry.as_of) == (3, "a1", 7)
    assert entry.size == len(entry.body) + entries.OVERHEAD
    assert entry.body == entries.encode(_CONFIG), "what the database path sends"


def test_an_application_entry_keeps_its_fields_decoded_and_counts_its_body_twice() -> None:
    app = {"id": "a1", "name": "billing", "version": 2, "configuration_ids": ["c1", "c2"]}
    entry = entries.entry_of(entries.APP, app, 4)
    assert entry.body == entries.encode(app)
    assert (entry.fields, entry.ids) == ({"id": "a1", "name": "billing", "version": 2},
                                         ["c1", "c2"])  # fmt: skip
    assert entry.size == 2 * len(entry.body) + entries.OVERHEAD
    assert entries.ordered(app, ("version", "id")) == {"version": 2, "id": "a1"}
