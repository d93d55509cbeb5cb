"""The read cache's entries: a resource's encoded response body, and a fill in flight.

Bounded by bytes: each entry counts its body plus :data:`OVERHEAD` (the entry object, its
key and its place in the LRU order); an application's entry counts its body twice, since its
fields and configuration ids are also kept decoded to re-encode it when configurations come
and go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from configsvc_contract import exactjson

# Bytes an entry costs besides its body (the entry object, its key, its LRU node, its ids):
# what make bench measures as the worker's RSS growth per entry, less the body, rounded up.
OVERHEAD = 560
APP, CONFIG = "a", "c"
Key = tuple[str, str]


def encode(resource: dict[str, Any]) -> bytes:
    """The response body of a resource: what both the cache and the database path send."""
    return exactjson.dumps(resource).encode()


class Entry:
    """One encoded body; ``fields`` and ``ids`` only for an application."""

    __slots__ = ("application_id", "as_of", "body", "fields", "ids", "size", "version")

    def __init__(
        self, body: bytes, version: int, application_id: str, as_of: int,
        fields: dict[str, Any] | None = None, ids: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.body, self.version, self.application_id = body, version, application_id
        self.as_of, self.fields, self.ids = as_of, fields, ids
        self.size = len(body) * (1 if fields is None else 2) + OVERHEAD


@dataclass(eq=False, slots=True)
class Fill:
    """A miss being filled from the database; ``touched``: the newest change to its key
    dispatched while it was in flight."""

    key: Key
    generation: int
    touched: int = 0


def application_entry(fields: dict[str, Any], ids: list[str], as_of: int) -> Entry:
    body = encode({**fields, "configuration_ids": ids})
    return Entry(body, fields["version"], fields["id"], as_of, fields, ids)


def configuration_entry(resource: dict[str, Any], as_of: int) -> Entry:
    return Entry(encode(resource), resource["version"], resource["application_id"], as_of)


def entry_of(kind: str, resource: dict[str, Any], at: int) -> Entry:
    """The entry for a resource read from the database at revision ``at``."""
    if kind == CONFIG:
        return configuration_entry(resource, at)
    fields = {k: v for k, v in resource.items() if k != "configuration_ids"}
    return application_entry(fields, list(resource["configuration_ids"]), at)


def ordered(resource: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: resource[name] for name in names}
