"""The live feed: ``GET /api/v1/ws``, one socket per client process, many subscriptions each.

Protocol (JSON text frames), client to server::

    {"type": "subscribe", "application_id": ID, "since": R}   # or "application_name": NAME
    {"type": "unsubscribe", "application_id": ID}
    {"type": "hello", "client_id": ID, "labels": {...}, "sdk": S}         # optional
    {"type": "ack", "application_id": ID, "revision": R, "results": [...]}  # optional

server to client: ``snapshot``, ``change``, ``synced`` and ``error`` (see README).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pydantic
from aiohttp import WSMsgType, web
from configsvc_contract import exactjson, models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.auth import access, guard
from configsvc.db import database
from configsvc.live import clients, follow, peer, revocation, sync
from configsvc.ops import metrics
from configsvc.store import applications

log = logging.getLogger(__name__)


# What counts a rollout's rejections at once, not at the fleet's next flush (an abort must
# reach the targeted clients within a second): set by ops/rollouts.py.
Counted = Callable[[peer.Peer, models.Ack], Awaitable[None]]
REJECTED: web.AppKey[Counted] = web.AppKey("rejected")

_peer_ids = itertools.count(1)

# Deeper JSON is refused before it is parsed (REST bodies share the limit: api/bodies.py).
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _frame(message: dict[str, Any]) -> str:
    return exactjson.dumps(message)  # a snapshot's numbers, exactly as stored


def _error(code: str, detail: str, application_id: str | None = None) -> str:
    message = {"type": "error", "code": code, "detail": detail}
    if application_id is not None:
        message["application_id"] = application_id
    # ASCII: whatever the client sent (a lone surrogate, say) can be echoed back as valid UTF-8.
    return json.dumps(message, separators=(",", ":"))


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= models.MAX_JSON_DEPTH:
        return False
    depth = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            if depth > models.MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _encodable(value: str | None) -> bool:
    try:
        (value or "").encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


Message = models.Subscribe | models.Unsubscribe | models.Hello | models.Ack
MESSAGES: dict[str, type[Message]] = {
    "subscribe": models.Subscribe, "unsubscribe": models.Unsubscribe, "hello": models.Hello,
    "ack": models.Ack,
}  # fmt: skip


def _parse(text: str) -> Message:
    if _too_deep(text):
        raise errors.BadRequest(f"JSON nested deeper than {models.MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise errors.BadRequest(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") not in MESSAGES:
        raise errors.BadRequest(f'expected an object with "type" one of {", ".join(MESSAGES)}')
    model = MESSAGES[data["type"]]
    try:
        message = model.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise errors.BadRequest(problems) from exc
    if isinstance(message, models.Hello | models.Ack):
        clients.check_text(message)
        return message
    for field in ("application_id", "application_name"):
        if not _encodable(getattr(message, field, None)):
            raise errors.BadRequest(f"{field}: not valid Unicode (a lone surrogate)")
    if isinstance(message, models.Subscribe) and (
        (message.application_id is None) == (message.application_name is None)
    ):
        raise errors.BadRequest("give exactly one of application_id and application_name")
    return message


async def _resolve(conn: asyncpg.Connection, message: models.Subscribe) -> str:
    # Values no application can have are answered without asking the database (which would
    # refuse a U+0000 with an error of its own).
    if message.application_name is not None:
        name = message.application_name
        try:
            name = models.normal_name(name)  # looked up as it was stored
        except ValueError:
            raise errors.NotFound(f"no application named {name[:300]!r}") from None
        if len(name) > models.NAME_MAX:
            raise errors.NotFound(f"no application named {name[:300]!r}")
        return str((await applications.get_by_name(conn, name))["id"])
    assert message.application_id is not None
    if not re.fullmatch(models.ID_PATTERN, message.application_id):
        raise errors.NotFound(f"no application with id {message.application_id[:300]}")
    return message.application_id  # whether it exists is checked in the sync transaction


async def _subscribe(request: web.Request, to: peer.Peer, message: models.Subscribe) -> None:
    """Register, read the snapshot or catch-up, give the connection back, then send."""
    await to.settle(request.app[settings_mod.SETTINGS].ws_heartbeat_s)
    async with request.app[database.DB].connection() as conn:
        await request.app[revocation.REVOCATIONS].confirm(conn, to)
        if to.close_code is not None:
            return  # revoked meanwhile: closed (4401)
        app_id = await _resolve(conn, message)
        missing = (
            f"no application with id {app_id}" if message.application_name is None
            else f"no application named {message.application_name!r}"
        )  # fmt: skip
        access.authorize(to.caller, app_id, "read", errors.NotFound(missing))
        current = to.subscriptions.get(app_id)
        if current is not None and current.syncing():
            return  # the snapshot on its way answers this subscribe too
        sub = request.app[follow.HUB].subscribe(to, app_id)
        try:
            state = await sync.read(
                conn,
                app_id,
                message.since,
                to.limit - to.pending(),
                message.since_entry_id,
                to,
            )
        except BaseException:
            sub.end()
            raise
    for text in state.frames:
        to.send(text)
    metrics.WS_FRAMES.inc(len(state.frames))
    sub.synced(state.revision)
    request.app[clients.FLEET].subscribed(to, sub)


def _detail(exc: errors.ServiceError) -> str:
    """What the client is told; the driver's words for a failure go to the log instead."""
    if isinstance(exc, errors.Unavailable):
        log.warning("subscribe failed: %s", exc)
        return "the database is unavailable; retry"
    if errors.kind(exc).status >= 500:
        log.error("feed message failed: %s", exc, exc_info=exc)
        return "the server failed; it has been logged"
    return str(exc)


async def _handle(request: web.Request, to: peer.Peer, text: str) -> None:
    """One client message; whatever is wrong with it is answered with an error frame."""
    wanted: str | None = None
    try:
        message = _parse(text)
        if isinstance(message, models.Hello):
            request.app[clients.FLEET].hello(to, message)
            to.client_id, to.labels = message.client_id, dict(message.labels)
        elif isinstance(message, models.Ack):
            wanted = message.application_id
            request.app[clients.FLEET].ack(to, message)
            if (counted := request.app.get(REJECTED)) is not None:
                await counted(to, message)
        elif isinstance(message, models.Unsubscribe):
            wanted = message.application_id
            sub = to.subscriptions.get(message.application_id)
            if sub is None:
                raise errors.NotFound(f"not subscribed to {message.application_id}")
            sub.end()
        else:
            wanted = message.application_id or message.application_name
            await _subscribe(request, to, message)
    except errors.ServiceError as exc:
        to.send(_error(errors.kind(exc).ws_code, _detail(exc), wanted))
    except Exception:
        # A bug must not cost the client its other subscriptions: answer, log, carry on.
        log.exception("feed message failed: %.200s", text)
        to.send(_error("internal", "the server failed; it has been logged", wanted))


async def websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[settings_mod.SETTINGS]
    # No per-message compression: frames are built once and written to every socket as they
    # are, and deflating them once per subscriber would cost more than the bytes saved.
    # The token was checked by the auth middleware before the upgrade: a refusal is a plain
    # 401. A browser's token rides in a second subprotocol; the one selected is configsvc.v1.
    ws = web.WebSocketResponse(
        heartbeat=settings.ws_heartbeat_s, max_msg_size=64 * 1024, compress=False,
        protocols=(guard.SUBPROTOCOL,),
    )  # fmt: skip
    if not ws.can_prepare(request).ok:
        raise errors.UpgradeRequired(
            "this is the WebSocket feed: connect with a WebSocket client (Upgrade: websocket)"
        )
    writer = await ws.prepare(request)
    assert request.transport is not None
    fanout = request.app[follow.HUB]
    name = f"ws-{next(_peer_ids)} {request.remote}"
    me = peer.Peer(ws, writer, request.transport, settings.ws_send_buffer_bytes,
                   settings.ws_close_timeout_s, name)  # fmt: skip
    me.caller = guard.caller(request)
    fanout.peers.add(me)
    # Its token was checked before the upgrade: a revoke heard since then found no socket
    # of it to close, so it is checked once more now that the socket can be found.
    request.app[revocation.REVOCATIONS].registered(me)
    metrics.WS_CONNECTIONS.inc()
    request.app[clients.FLEET].connected(me, request.remote)
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await _handle(request, me, msg.data)
            elif msg.type is WSMsgType.BINARY:
                me.send(_error("bad_request", "send JSON text frames"))
    finally:
        fanout.peers.discard(me)
        metrics.WS_CONNECTIONS.dec()
        request.app[clients.FLEET].left(me)
        await me.finish()
    return ws


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(clients.fleet_ctx)
    app.cleanup_ctx.append(follow.follow_ctx)
    app.on_shutdown.append(follow.going_away)
    app.router.add_get("/api/v1/ws", websocket)
