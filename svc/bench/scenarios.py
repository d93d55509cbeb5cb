"""The REST requests the bench sends, described once for both load generators.

A request body is a template: literal JSON text with named holes (``NAME``, ``SEQ``, ...). The
asyncio generator fills them in Python, the wrk driver turns the same parts into Lua, so both
send byte-for-byte the same kind of request.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass

# About 1 KB of configuration, like the seeded ones: a realistic mix of value types.
FILLER: dict[str, object] = {
    "database": {"host": "db.internal.example", "port": 5432, "pool": 20, "ssl": True},
    "features": {f"flag_{i:02d}": i % 3 == 0 for i in range(24)},
    "limits": {"rps": 1500, "burst": 3000, "timeout_ms": 2500, "retries": 3},
    "endpoints": [f"https://svc-{i}.internal.example/api/v2" for i in range(10)],
    "banner": "x" * 180,
}

# A realistic JSON Schema for FILLER: about 20 properties, nested objects, patterns and ranges.
# `make bench` puts it (as `*`) on half the seeded applications: rest_put_config writes there,
# rest_put_config_noschema to the other half, and their ratio is what validation costs.
SCHEMA: dict[str, object] = {
    "type": "object",
    "required": ["seq", "database", "limits"],
    "additionalProperties": False,
    "properties": {
        "seq": {"type": "integer", "minimum": 0},
        "database": {
            "type": "object",
            "required": ["host", "port"],
            "additionalProperties": False,
            "properties": {
                "host": {"type": "string", "pattern": "^[a-z0-9.-]+$", "maxLength": 253},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "pool": {"type": "integer", "minimum": 1, "maximum": 500},
                "ssl": {"type": "boolean"},
            },
        },
        "features": {
            "type": "object",
            "maxProperties": 200,
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": {"type": "boolean"},
        },
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "rps": {"type": "integer", "minimum": 1, "maximum": 100000},
                "burst": {"type": "integer", "minimum": 0, "maximum": 1000000},
                "timeout_ms": {"type": "integer", "minimum": 10, "maximum": 60000},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
            },
        },
        "endpoints": {
            "type": "array",
            "maxItems": 100,
            "items": {"type": "string", "pattern": "^https://[a-z0-9.-]+(/[A-Za-z0-9._/-]*)?$"},
        },
        "banner": {"type": "string", "maxLength": 1000},
        "region": {"enum": ["eu-west-1", "us-east-1", "ap-south-1"]},
        "owner": {"type": "string", "minLength": 1, "maxLength": 256},
    },
}

HOLES = ("NAME", "SEQ", "APP", "UNIQUE")


@dataclass(frozen=True)
class Template:
    """A body as alternating literal text and hole names: ``("lit", "NAME", "lit", ...)``."""

    parts: tuple[str, ...]

    def fill(self, **values: str) -> str:
        return "".join(values[p] if i % 2 else p for i, p in enumerate(self.parts))


def _template(body: dict[str, object]) -> Template:
    text = json.dumps(body, separators=(",", ":"))
    # Numeric holes were written as strings; unquote them so the JSON stays a number.
    text = text.replace('"@SEQ@"', "@SEQ@")
    parts: list[str] = []
    rest = text
    while "@" in rest:
        before, _, after = rest.partition("@")
        hole, _, rest = after.partition("@")
        if hole not in HOLES:
            raise ValueError(f"unknown hole {hole!r}")
        parts += [before, hole]
    parts.append(rest)
    return Template(tuple(parts))


def config_body(seq: int) -> dict[str, object]:
    """A configuration of about 1 KB, different for every ``seq``."""
    return {"seq": seq, **FILLER}


PUT_CONFIG = _template(
    {"name": "@NAME@", "comments": "bench", "config": {"seq": "@SEQ@", **FILLER}}
)
POST_CONFIG = _template(
    {"application_id": "@APP@", "name": "@UNIQUE@", "comments": "bench",
     "config": {"seq": "@SEQ@", **FILLER}}
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One kind of request. ``path`` may hold ``{config}`` or ``{app}``: a random seeded id."""

    name: str
    method: str
    path: str
    body: Template | None = None
    # The ids it picks from: the seeded ones (""), or only those of one half ("schema" or
    # "plain", each a folder of the data directory).
    data: str = ""

    @property
    def needs(self) -> set[str]:
        fields = {f for _, f, _, _ in string.Formatter().parse(self.path) if f}
        if self.body is not None:
            fields |= {p for i, p in enumerate(self.body.parts) if i % 2}
        return fields


HELLO = Scenario("ceiling_hello", "GET", "/hello")
FETCHROW = Scenario("ceiling_fetchrow", "GET", "/configurations/{config}")
# The same body as a PUT of the service, to the write ceiling (bench/ceilings.py ``update``).
UPDATE = Scenario("ceiling_update", "PUT", "/configurations/{config}", PUT_CONFIG, "plain")
GET_CONFIG = Scenario("rest_get_config", "GET", "/api/v1/configurations/{config}")
GET_APP = Scenario("rest_get_app", "GET", "/api/v1/applications/{app}")
LIST = Scenario("rest_list", "GET", "/api/v1/applications?limit=50")
PUT = Scenario("rest_put_config", "PUT", "/api/v1/configurations/{config}", PUT_CONFIG, "schema")
PUT_PLAIN = Scenario(
    "rest_put_config_noschema", "PUT", "/api/v1/configurations/{config}", PUT_CONFIG, "plain"
)
POST = Scenario("rest_post_config", "POST", "/api/v1/configurations", POST_CONFIG)

# The same GET against a service with AUTH_MODE=off, for ratio_auth_to_open.
GET_CONFIG_OPEN = Scenario("rest_get_config_open", "GET", "/api/v1/configurations/{config}")

SERVICE = (GET_CONFIG, GET_APP, LIST, PUT, PUT_PLAIN, POST)
# What each service scenario needs to be allowed; every other one reads.
WRITES = (PUT, PUT_PLAIN, POST)
CEILINGS = (HELLO, FETCHROW, UPDATE)
