"""The OpenAPI document's shared parameters (``components.parameters``): every path, query and
header parameter an operation of the table names, described once, with the limits the handlers
enforce (from the modules that enforce them).
"""

from __future__ import annotations

import functools
from typing import Any

from configsvc_contract import models

from configsvc.api import bodies, history, search


@functools.cache
def parameters() -> dict[str, dict[str, Any]]:
    """``components.parameters``: every parameter an operation names, by the name it uses.
    Built once, on first use: the name patterns take a pass over all of Unicode."""
    return {
        "id": {
            "name": "id", "in": "path", "required": True,
            "description": "The resource's id, a ULID. A malformed id names nothing: 404.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "rollout_id": {
            "name": "rollout_id", "in": "path", "required": True,
            "description": "The rollout's id, a ULID. A malformed id names nothing: 404.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "client_id": {
            "name": "client_id", "in": "query", "required": False,
            "description": "Read as this client does: the candidate of a running rollout that "
                           "targets it (by the labels of its latest `hello`), else the base.",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.CLIENT_ID_MAX,
                       "pattern": "^[^\\x00]*$"},
        },
        "limit": {
            "name": "limit", "in": "query", "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": bodies.LIMIT_MAX,
                       "default": bodies.LIMIT_DEFAULT},
        },
        "cursor": {
            "name": "cursor", "in": "query", "required": False,
            "description": "Opaque: the `next_cursor` of the previous page (else 422).",
            "schema": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9_-]+$"},
        },
        "name": {
            "name": "name", "in": "query", "required": False,
            "description": "Only the application with exactly this name.",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": models.name_pattern()},
        },
        "search_limit": {
            "name": "limit", "in": "query", "required": False,
            "description": "Page size.",
            "schema": {"type": "integer", "minimum": 1, "maximum": search.LIMIT_MAX,
                       "default": search.LIMIT_DEFAULT},
        },
        "version": {
            "name": "version", "in": "path", "required": True,
            "description": "A version number (1, 2, ...).",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "from": {
            "name": "from", "in": "query", "required": True,
            "description": "The version to diff from.",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "to": {
            "name": "to", "in": "query", "required": True,
            "description": "The version to diff to.",
            "schema": {"type": "integer", "minimum": 1, "maximum": history.INT4_MAX},
        },
        "at_revision": {
            "name": "at_revision", "in": "query", "required": False,
            "description": "All of them as they were at this global revision, in one page "
                           "(422 if above the latest or older than history keeps).",
            "schema": {"type": "integer", "minimum": 0, "maximum": bodies.REVISION_MAX},
        },
        "q": {
            "name": "q", "in": "query", "required": True,
            "description": "What to look for: a case-insensitive substring of a name, key or "
                           "value.",
            "schema": {"type": "string", "minLength": 1, "maxLength": search.QUERY_MAX,
                       "pattern": search.QUERY_PATTERN},
        },
        "application_id": {
            "name": "application_id", "in": "query", "required": False,
            "description": "Only entries about this application.",
            "schema": {"type": "string", "pattern": models.ID_PATTERN},
        },
        "actor": {
            "name": "actor", "in": "query", "required": False,
            "description": "Only entries by this actor (its id or its name).",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": "^[^\\u0000]*$"},
        },
        "action": {
            "name": "action", "in": "query", "required": False,
            "description": "Only this action, e.g. `configuration.update`.",
            "schema": {"type": "string", "enum": sorted(history.ACTIONS)},
        },
        "outcome": {
            "name": "outcome", "in": "query", "required": False,
            "description": "Only this outcome.",
            "schema": {"type": "string", "enum": ["ok", "denied", "invalid"]},
        },
        "since": {
            "name": "since", "in": "query", "required": False,
            "description": "Only entries at or after this RFC 3339 time.",
            "schema": {"type": "string", "format": "date-time"},
        },
        "until": {
            "name": "until", "in": "query", "required": False,
            "description": "Only entries before this RFC 3339 time.",
            "schema": {"type": "string", "format": "date-time"},
        },
        "schema_name": {
            "name": "name", "in": "path", "required": True,
            "description": "The configuration name the schema covers, or `*` for every "
                           "configuration without a schema of its own (a name no configuration "
                           "can have names nothing: 404).",
            "schema": {"type": "string", "minLength": 1, "maxLength": models.NAME_MAX,
                       "pattern": models.name_pattern()},
        },
        "force": {
            "name": "force", "in": "query", "required": False,
            "description": "Store the schema change even if current configurations fail it: they "
                           "are shown with `schema_status: invalid` until fixed (else 409).",
            "schema": {"type": "boolean", "default": False},
        },
        "dry_run": {
            "name": "dry_run", "in": "query", "required": False,
            "description": "Run the whole write (permissions, preconditions, validation), roll it "
                           "back and answer 200 with a `DryRun`: nothing is written, audited or "
                           "sent. Schema violations answer `valid: false`; other refusals are "
                           "answered as by the real write.",
            "schema": {"type": "boolean", "default": False},
        },
        "X-Change-Reason": {
            "name": "X-Change-Reason", "in": "header", "required": False,
            "description": "Why: recorded with the version, the audit entry and the feed's change "
                           "(at most 1,024 characters, as `comments`; else 422).",
            "schema": {"type": "string", "maxLength": models.COMMENTS_MAX,
                       "pattern": models.comments_pattern()},
        },
        "If-Match": {
            "name": "If-Match", "in": "header", "required": False,
            "description": "Write only if the resource still has one of these strong ETags "
                           "(or `*`); else 412.",
            "schema": {"type": "string"}, "example": '"1"',
        },
        "If-None-Match": {
            "name": "If-None-Match", "in": "header", "required": False,
            "description": "304 without a body if the resource still has one of these ETags.",
            "schema": {"type": "string"}, "example": '"1"',
        },
        bodies.MIN_REVISION_HEADER: {
            "name": bodies.MIN_REVISION_HEADER, "in": "header", "required": False,
            "description": "Answer from no state older than this revision (read-your-writes: send "
                           "the highest Config-Revision you have written or seen), from 0 to "
                           f"{bodies.REVISION_MAX}. Else 422.",
            "schema": {"type": "string", "pattern": bodies.REVISION_PATTERN},
        },
        bodies.MIN_REVISION_PARAM: {
            "name": bodies.MIN_REVISION_PARAM, "in": "query", "required": False,
            "description": f"As the {bodies.MIN_REVISION_HEADER} header.",
            "schema": {"type": "integer", "minimum": 0, "maximum": bodies.REVISION_MAX},
        },
    }  # fmt: skip
