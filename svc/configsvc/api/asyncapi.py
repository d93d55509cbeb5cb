"""The AsyncAPI 3.0 description of the live feed (``GET /api/v1/asyncapi.json``).

Generated from the pydantic models the server and the client exchange on the socket, so the
published protocol cannot drift from the one spoken; the error codes and close codes come from
the modules that send them. ``/api/v1/docs`` renders it beside the OpenAPI document.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from aiohttp import WSCloseCode, web
from configsvc_contract import models
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from configsvc.api import operation
from configsvc.live import listener, peer, revocation

ASYNCAPI_PATH = f"{operation.PREFIX}/asyncapi.json"
WS_PATH = f"{operation.PREFIX}/ws"
DOCUMENT: web.AppKey[bytes] = web.AppKey("asyncapi_document", bytes)

# Where both documents (OpenAPI and AsyncAPI) keep their schemas.
SCHEMAS = "#/components/schemas/"

# (model, what the server does with it, what it is for); the message name is the frame's "type".
_MESSAGES: list[tuple[type[pydantic.BaseModel], str, str]] = [
    (models.Hello, "receive",
     "Optional, first on a socket: who the client is, for the fleet view "
     "(`GET /api/v1/applications/{id}/clients`): a `client_id` made once per process, its "
     "`labels` (`host`, `pid`, `service`, ...) and `sdk`. Nothing is answered; a bad one gets "
     "a `bad_request` naming the field and the socket stays open."),
    (models.Subscribe, "receive",
     "Follow an application, by `application_id` or `application_name`. Without `since`: "
     "a `snapshot`. With `since`: every change after it in order, then `synced` (or a "
     "`snapshot` with `reset: true` when `since` is older than the retained log, or newer "
     "than anything this database has seen)."),
    (models.Unsubscribe, "receive", "Stop following an application."),
    (models.Ack, "receive",
     "Optional: the client applied what it received of an application up to `revision`; "
     "`results` says, per configuration version received since its last ack, `applied` or "
     "`rejected` (with its validator's `reason`). Nothing is answered unless it is wrong "
     "(`bad_request`) or the socket does not follow the application (`not_found`)."),
    (models.Snapshot, "send",
     "All configurations of the application, consistent as of `revision`."),
    (models.Change, "send",
     "One committed change. `op` `created`, `updated`, `deleted` carry `configuration` (for "
     "`deleted` its last state); `application_updated` and `application_deleted` carry "
     "`application`, and the subscription ends after `application_deleted`. Per "
     "subscription, revisions strictly increase, with no gap and no duplicate."),
    (models.Synced, "send", "The changes since `since` have all been sent."),
    (models.FeedError, "send",
     "A message could not be served; the socket stays open. `application_id` echoes the "
     "id or name the failed message named."),
]  # fmt: skip

ERROR_CODES: dict[str, str] = {
    "bad_request": "Not JSON, not a text frame, an unknown `type` or wrong fields.",
    "not_found": "No such application, or `unsubscribe` from one not subscribed to.",
    "unavailable": "The database is unreachable; send the message again later.",
    "forbidden": "The socket's token lost read access to the application (its grants changed): "
    "that subscription ended, the socket and its other subscriptions stay.",
    "unauthenticated": "Reserved: a token problem closes the socket (4401) instead.",
    "gone": "Reserved: a pruned version; no message of today's protocol gets it.",
    "conflict": "Reserved for messages that change state; no message of today's protocol gets it.",
    "internal": "A bug in the server, which logged it; other subscriptions carry on.",
}

CLOSE_CODES: dict[int, str] = {
    WSCloseCode.OK: "Normal closure: the client closed the socket.",
    WSCloseCode.GOING_AWAY: "The server is shutting down: reconnect (to another worker) and "
    "resubscribe with `since`.",
    WSCloseCode.PROTOCOL_ERROR: "A client frame broke the WebSocket protocol.",
    WSCloseCode.INVALID_TEXT: "A client text frame was not valid UTF-8.",
    WSCloseCode.MESSAGE_TOO_BIG: "A client message was over 64 KiB.",
    listener.CLOSE_SERVICE_RESTART: "Resubscribe: the worker missed changes the log no longer "
    "holds, the revision counter went back (a failover or restore), or its change listener "
    "gave up and the worker restarts. Reconnect; a `since` it cannot serve gets a reset snapshot.",
    peer.CLOSE_TOO_SLOW: "The socket fell behind: more than `WS_SEND_BUFFER_BYTES` waited for it. "
    "Reconnect and resubscribe with `since`.",
    revocation.CLOSE_UNAUTHORIZED: "The socket's token was revoked or expired: reconnecting "
    "with it is refused (401); use another token.",
}


def _schemas() -> dict[str, Any]:
    wanted: list[tuple[type[pydantic.BaseModel], JsonSchemaMode]] = [
        (model, "validation" if action == "receive" else "serialization")
        for model, action, _ in _MESSAGES
    ]
    _, top = models_json_schema(wanted, ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = top["$defs"]
    schemas["FeedError"]["properties"]["code"]["enum"] = list(ERROR_CODES)
    return schemas


def _message(model: type[pydantic.BaseModel], summary: str) -> dict[str, Any]:
    kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    return {
        "name": kind,
        "title": model.__name__,
        "summary": summary,
        "contentType": "application/json",
        "payload": {"$ref": SCHEMAS + model.__name__},
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the feed."""
    messages = {model.__name__: _message(model, text) for model, _, text in _MESSAGES}
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    operations = {
        f"{action}{model.__name__}": {
            "action": action,
            "channel": {"$ref": "#/channels/feed"},
            "messages": [{"$ref": f"#/channels/feed/messages/{model.__name__}"}],
        }
        for model, action, _ in _MESSAGES
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "configsvc live feed",
            "version": "1",
            "description": (
                "The server's side of the feed: it receives `hello`, `subscribe`, "
                "`unsubscribe` and `ack` and sends the rest, as JSON text frames over one "
                "WebSocket per client process; "
                "one socket may hold many subscriptions. A plain GET without the upgrade "
                "headers is answered 426 (problem+json, `Upgrade: websocket`). The server "
                "pings every `WS_HEARTBEAT_S` seconds and drops a peer that does not answer "
                "(no close frame)."
            ),
        },
        "channels": {
            "feed": {
                "address": WS_PATH,
                "messages": channel_messages,
                "bindings": {"ws": {"method": "GET"}},
            }
        },
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas()},
        "x-error-codes": ERROR_CODES,
        "x-close-codes": {str(int(code)): text for code, text in CLOSE_CODES.items()},
    }


async def _build(app: web.Application) -> None:
    app[DOCUMENT] = json.dumps(document(), ensure_ascii=False).encode("utf-8")


async def serve_document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[DOCUMENT], content_type="application/json")


def add_routes(app: web.Application) -> None:
    app.on_startup.append(_build)
    app.router.add_get(ASYNCAPI_PATH, serve_document, allow_head=False)
