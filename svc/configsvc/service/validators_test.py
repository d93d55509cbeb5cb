"""The worker's cache of compiled schemas: most recent kept, changed schemas forgotten."""

from __future__ import annotations

import json

from configsvc.service import schemas, validators
from configsvc.store import changes


def _entry(op: str, resource: object) -> changes.Entry:
    return changes.Entry(1, "A" * 26, op, json.dumps(resource))


def test_the_cache_keeps_the_most_recent_and_forgets_changed_schemas() -> None:
    cache = validators.Validators(size=2)
    one, two = schemas.compile_stored({}), schemas.compile_stored({"type": "object"})
    cache.put(("a", 1), one)
    cache.put(("b", 1), two)
    assert cache.get(("a", 1)) is one  # now the most recently used
    cache.put(("c", 1), one)
    assert (cache.get(("b", 1)), len(cache)) == (None, 2)
    cache.changed(_entry("updated", {"id": "a"}))
    assert cache.get(("a", 1)) is one, "a configuration change is not a schema change"
    cache.changed(_entry("schema_updated", {"id": "a"}))
    cache.changed(_entry("schema_deleted", ["not", "a", "schema"]))
    assert (cache.get(("a", 1)), len(cache)) == (None, 1)
