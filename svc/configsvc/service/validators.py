"""This worker's compiled JSON Schemas, kept between writes.

Apart from schemas.py, which compiles and applies them, because every write carries the cache
(``writing.Write.validators``) and schemas.py needs the write's types: the cache depends on
neither.
"""

from __future__ import annotations

import json
from collections import OrderedDict

import jsonschema_rs
from aiohttp import web

from configsvc.store import changes

CACHE_MAX = 1024

Validator = jsonschema_rs.Draft202012Validator
# A committed schema version: (schema id, version), which never changes once committed.
Key = tuple[str, int]


class Validators:
    """This worker's compiled schemas, at most ``size``, least recently used dropped first.

    Only committed schemas go in (a write's own uncommitted schema could be rolled back, and its
    id and version reused for another body); :meth:`changed`, fed by the change listener, drops
    the versions of a schema that changed.
    """

    def __init__(self, size: int = CACHE_MAX) -> None:
        self.size = size
        self._compiled: OrderedDict[Key, Validator] = OrderedDict()

    def get(self, key: Key) -> Validator | None:
        found = self._compiled.get(key)
        if found is not None:
            self._compiled.move_to_end(key)
        return found

    def put(self, key: Key, validator: Validator) -> None:
        self._compiled[key] = validator
        while len(self._compiled) > self.size:
            self._compiled.popitem(last=False)

    def changed(self, entry: changes.Entry) -> None:
        """Forget a schema the feed says was updated or deleted; any other change is ignored."""
        if not entry.op.startswith("schema_"):
            return
        try:
            schema_id = json.loads(entry.resource)["id"]
        except (ValueError, KeyError, TypeError):
            return  # keyed by version: a stale entry is never used, only kept a little longer
        for key in [key for key in self._compiled if key[0] == schema_id]:
            del self._compiled[key]

    def __len__(self) -> int:
        return len(self._compiled)


VALIDATORS: web.AppKey[Validators] = web.AppKey("schema_validators", Validators)
