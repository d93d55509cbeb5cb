"""``Watch``: the WebSocket subscription that keeps a ``LiveConfig`` current.

One task owns one socket at a time. After any loss (worker killed, service restarted, socket
closed with 1001 or 4008, network gone) it waits a jittered, growing delay, connects to the
base URL again (the load balancer picks a worker) and resubscribes with ``since`` = the last
revision it has, so it misses nothing and applies nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
from types import TracebackType
from typing import Any

import aiohttp
import pydantic
from configsvc_contract import exactjson, models

from configsvc_client import acks, cache, errors, identity, transport
from configsvc_client import backoff as backoff_mod
from configsvc_client import live as live_mod

# Where these lived before ``identity`` (``configsvc_client.watch.default_labels``).
from configsvc_client.identity import client_id as client_id
from configsvc_client.identity import default_labels as default_labels
from configsvc_client.identity import sdk as sdk

log = logging.getLogger(__name__)

Validator = live_mod.Validator

# A name could look like this too; the protocol has no way to say which, so ids win.
_ULID = re.compile(models.ID_PATTERN)
_MESSAGE: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(models.ServerMessage)
HTTP_UNAUTHORIZED = 401
# The feed closes a socket with this when its token is revoked or expires.
CLOSE_REVOKED = 4401
_LOST = (aiohttp.ClientError, TimeoutError, OSError)
_CLOSED = frozenset(
    {
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.ERROR,
    }
)


class _Gone(Exception):
    """The service says the application does not exist."""


class _Refused(Exception):
    """The service could not take the subscription now (e.g. its database is away)."""


class Watch:
    """``async with client.watch(app) as live:`` starts the feed and yields a ``LiveConfig``.

    Entering waits for the first snapshot. If the service cannot be reached and ``cache_path``
    holds a state of this application, it yields that at once (``live.stale`` is True) and
    keeps trying in the background; without a cache it keeps trying for ``start_timeout``
    seconds, then raises ``Unavailable``. An unknown application raises ``NotFound``.
    """

    def __init__(
        self,
        client: transport.Transport,
        application: str,
        *,
        cache_path: str | None = None,
        validate: Validator | None = None,
        backoff: backoff_mod.Backoff | None = None,
        start_timeout: float | None = 30.0,
        heartbeat: float = 30.0,
    ) -> None:
        self.live = live_mod.LiveConfig(application, validate=validate)
        self.attempts = 0
        self._client = client
        self._by_id = looks_like_id(application)
        self._backoff = backoff or backoff_mod.Backoff()
        self._start_timeout = start_timeout
        self._heartbeat = heartbeat
        self._writer = cache.Writer(cache_path) if cache_path else None
        self._cache_path = cache_path
        self._ever_synced = False
        self._synced_now = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._acked: int | None = None

    async def __aenter__(self) -> live_mod.LiveConfig:
        if self._cache_path and (state := cache.load(self._cache_path, self.live.application)):
            self.live.load(state)
        if self._writer is not None:
            self._writer.start()
        self._task = asyncio.create_task(
            self._run(), name=f"configsvc-watch-{self.live.application}"
        )
        try:
            await self._started()
        except BaseException:
            await self.aclose()
            raise
        return self.live

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the feed, close the socket, write the cache one last time.

        A cancellation of the caller (``asyncio.timeout``, a TaskGroup, Ctrl-C) while this
        waits goes on up to the caller; the feed is stopped either way.
        """
        try:
            if self._task is not None:
                self._task.cancel()
                # wait() neither raises the task's outcome nor swallows our own cancellation.
                await asyncio.wait({self._task})
                if not self._task.cancelled():
                    self._task.exception()  # seen: logged by _run already
        finally:
            self.live.close()
            if self._writer is not None:
                await self._writer.close()

    async def _started(self) -> None:
        assert self._task is not None
        ready = asyncio.create_task(self._ready.wait())
        try:
            await asyncio.wait(
                {ready, self._task},
                timeout=self._start_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if self._ready.is_set():
            return
        if self._task.done() and (exc := self._task.exception()) is not None:
            raise exc
        raise errors.Unavailable(f"no snapshot of {self.live.application} within the timeout")

    async def _run(self) -> None:
        try:
            await self._loop()
        except Exception as exc:
            # Never silently stale: say so, and end the view so that its waiters hear of it.
            trace = not isinstance(exc, errors.ClientError)
            log.error("watch of %s ended: %r", self.live.application, exc, exc_info=trace)
            self.live.close(exc)
            raise
        finally:
            self.live.close()

    async def _loop(self) -> None:
        attempt = 0
        while True:
            self._synced_now = False
            try:
                await self._connection()
            except _Gone as exc:
                if not self._ever_synced:
                    raise errors.NotFound(404, None, str(exc)) from None
                log.warning("application %s is gone: %s", self.live.application, exc)
                self.live.mark_deleted()
            except (*_LOST, _Refused) as exc:
                log.info("feed of %s lost: %r", self.live.application, exc)
            if self.live.deleted:
                return
            self.live.set_stale(True)
            if self.live.application_id is not None:
                self._ready.set()  # serve the cached state while we keep trying
            # A connection that synced was healthy: start the backoff over.
            attempt = 0 if self._synced_now else attempt
            self.attempts += 1
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _connection(self) -> None:
        """One socket: subscribe, then apply messages until it closes."""
        async with asyncio.timeout(self._client.timeout):
            try:
                # No message size limit: a snapshot is as large as the application it carries.
                ws = await self._client.session.ws_connect(
                    self._client.ws_url(), heartbeat=self._heartbeat, max_msg_size=0,
                    headers=self._client.auth_headers(),
                )  # fmt: skip
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == HTTP_UNAUTHORIZED:
                    # Retrying would be refused again: end the view, saying why.
                    raise errors.Unauthorized(exc.status, None, exc.message) from None
                raise
        async with ws:
            self._acked = None
            await ws.send_json(identity.hello(self._client.labels))
            await ws.send_json(self._subscription())
            while not self.live.deleted:
                # Until the subscription is answered, a silent server is as good as a dead one;
                # after that, the heartbeat finds dead peers.
                wait = None if self._synced_now else self._client.timeout
                frame = await ws.receive(timeout=wait)
                if frame.type in _CLOSED:
                    self._log_close(ws)
                    if ws.close_code == CLOSE_REVOKED:
                        raise errors.Revoked(401, None, "the token was revoked or has expired")
                    return
                if frame.type is aiohttp.WSMsgType.TEXT:
                    self._handle(frame.data)
                    if (ack := self._ack()) is not None:
                        await ws.send_json(ack)

    def _log_close(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        # 1001: the worker is going away; 4008: we fell behind. Either way: resume with since.
        error = ws.exception()
        detail = repr(error) if error is not None else ""
        log.info("feed of %s closed: %s %s", self.live.application, ws.close_code, detail)

    def _ack(self) -> dict[str, Any] | None:
        """What to tell the service after a message: what was applied or rejected, if anything
        happened since the last ack on this socket."""
        live, results = self.live, self.live.take_results()
        if live.application_id is None or (not results and live.revision == self._acked):
            return None
        self._acked = live.revision
        return acks.frame(live.application_id, live.revision, results)

    def _subscription(self) -> dict[str, Any]:
        live = self.live
        if self._ever_synced and live.application_id is not None:
            resume: dict[str, Any] = {
                "type": "subscribe",
                "application_id": live.application_id,
                "since": live.revision,
            }
            if live.entry_id is not None:
                resume["since_entry_id"] = live.entry_id
            return resume
        if self._by_id:
            return {"type": "subscribe", "application_id": live.application}
        return {"type": "subscribe", "application_name": live.application}

    def _handle(self, data: str) -> None:
        try:
            message = _MESSAGE.validate_python(exactjson.loads(data))  # fractions exact
        except ValueError as exc:  # not JSON, or not a message (ValidationError is one too)
            # One bad frame is the server's bug; dropping the socket for it would not help.
            log.warning("ignoring malformed feed message %.200r: %s", data, exc)
            return
        if isinstance(message, models.FeedError):
            if message.code == "not_found":
                raise _Gone(message.detail)
            if not self._synced_now:
                raise _Refused(f"{message.code}: {message.detail}")
            log.warning("feed error %s: %s", message.code, message.detail)
        elif isinstance(message, models.Snapshot):
            name = None if self._by_id else self.live.application
            self.live.apply_snapshot(message, name)
            self._synced(message.revision)
        elif isinstance(message, models.Change):
            if self.live.apply_change(message):
                self._persist()
            self._client.saw(message.revision)
        else:
            self.live.reached(message.revision, message.entry_id)
            self._synced(message.revision)

    def _synced(self, revision: int) -> None:
        # Everything up to `revision` is applied, even when none of it was ours.
        self.live.revision = max(self.live.revision, revision)
        self._client.saw(self.live.revision)
        self._ever_synced = self._synced_now = True
        self.live.set_stale(False)
        self._ready.set()
        self._persist()

    def _persist(self) -> None:
        if self._writer is not None and (state := self.live.snapshot()) is not None:
            self._writer.submit(state)


def looks_like_id(application: str) -> bool:
    """Whether ``application`` is taken as an id (a ULID) rather than a name."""
    return bool(_ULID.match(application))
