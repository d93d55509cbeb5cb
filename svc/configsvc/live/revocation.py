"""Sockets follow their token: revoked or expired closes them (4401), lost grants end
subscriptions (an ``error`` frame with code ``forbidden``), within a second, on every worker.

The listener hands over every token id heard on the tokens channel (None after a reconnect:
anything may have changed). This worker drops it from its token cache, reads the token once,
and re-checks the sockets it opened. A socket is also re-checked once when it is registered:
its token was checked before the upgrade, and a revoke heard in between found nothing to
close. While the listener is away nothing is heard, so a subscribe re-reads its socket's
token first (:meth:`Revocations.confirm`). Expiry needs no notification: a tick every
``TICK_S`` closes the sockets whose token's ``expires_at`` has passed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict

import asyncpg
from aiohttp import web

from configsvc import errors
from configsvc.auth import access, guard, tokens
from configsvc.live import hub, peer
from configsvc.store import tokens as token_store

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
TICK_S = 0.25


def forbidden_frame(application_id: str) -> str:
    detail = f"this token may no longer read {application_id}"
    message = {"type": "error", "code": "forbidden", "detail": detail,
               "application_id": application_id}  # fmt: skip
    return json.dumps(message, separators=(",", ":"))


class Revocations:
    """Token ids heard and not yet re-checked, and the loop that re-checks them."""

    def __init__(self, keeper: guard.Guard, fanout: hub.Hub) -> None:
        self.guard, self.hub = keeper, fanout
        self._pending: set[str] = set()
        self._everything = False
        self._wake = asyncio.Event()
        # One re-check at a time: whoever waits for it then finds the work of the other done.
        self._checking = asyncio.Lock()

    def notified(self, token_id: str | None) -> None:
        """Called by the listener: this token changed (None: any may have)."""
        if token_id is None:
            self.guard.cache.clear()
            self._everything = True
        else:
            self.guard.cache.forget(token_id)
            self._pending.add(token_id)
        self._wake.set()

    def registered(self, each: peer.Peer) -> None:
        """A socket was just registered: re-check its token (one read per token per tick)."""
        if each.caller is not None and each.caller.token is not None:
            self._pending.add(each.caller.token.id)
            self._wake.set()

    async def recheck_all(self) -> None:
        """Re-check every socket now; for the listener after a reconnect, before it dispatches
        what it missed: a socket whose token was revoked unheard must be closed before it is
        sent what followed. A failure leaves everything to re-check, and goes up."""
        self._everything = True
        try:
            await self._recheck()
        except BaseException:
            self._everything = True
            raise

    async def confirm(self, conn: asyncpg.Connection, each: peer.Peer) -> None:
        """Re-read a socket's token now, before it reads anything more, unless this worker
        hears revokes: while the stream is lost, one made elsewhere would go unheard."""
        if self.guard.cache.trusted() or each.caller is None or each.caller.token is None:
            return
        self._apply(each, await self._load(conn, each.caller.token.id))

    async def run(self) -> None:
        """Forever: re-check what was heard, close what expired; retry after a failure."""
        backoff = 0.1
        while True:
            try:
                async with asyncio.timeout(TICK_S):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._recheck()
                backoff = 0.1
            except Exception as exc:
                # An outage, or a bug: either way the sockets must still be re-checked.
                log.warning("re-checking tokens failed: %r; retrying", exc, exc_info=exc)
                self._everything = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            self._expire()

    def _by_token(self) -> defaultdict[str, list[peer.Peer]]:
        found: defaultdict[str, list[peer.Peer]] = defaultdict(list)
        for each in self.hub.peers:
            if each.caller is not None and each.caller.token is not None:
                found[each.caller.token.id].append(each)
        return found

    async def _recheck(self) -> None:
        async with self._checking:
            await self._recheck_now()

    async def _recheck_now(self) -> None:
        peers = self._by_token()
        wanted = set(peers) if self._everything else self._pending & set(peers)
        self._pending, self._everything = set(), False
        if not wanted:
            return
        async with self.guard.db.connection() as conn:
            found = {token_id: await self._load(conn, token_id) for token_id in sorted(wanted)}
        for token_id, token in found.items():
            for each in peers[token_id]:
                self._apply(each, token)

    @staticmethod
    async def _load(conn: asyncpg.Connection, token_id: str) -> tokens.Token | None:
        try:
            return tokens.Token.from_resource(await token_store.get(conn, token_id))
        except errors.NotFound:
            return None

    def _apply(self, each: peer.Peer, token: tokens.Token | None) -> None:
        if token is None or token.expired():
            self._close(each, "the token was revoked")
            return
        each.caller = access.Caller(token, self.guard.mode, self.guard.observer)
        for sub in list(each.subscriptions.values()):
            if not access.may(each.caller, sub.application_id, "read"):
                each.send(forbidden_frame(sub.application_id))
                sub.end()

    def _close(self, each: peer.Peer, reason: str) -> None:
        if self.guard.mode == "enforce":
            each.close(CLOSE_UNAUTHORIZED, reason)
        else:
            self.guard.observer.note(errors.Unauthenticated(reason, presented=True))

    def _expire(self) -> None:
        for token_id, peers in self._by_token().items():
            token = peers[0].caller.token if peers[0].caller is not None else None
            if token is not None and token.expired():
                self.guard.cache.forget(token_id)
                for each in peers:
                    self._close(each, "the token has expired")


REVOCATIONS: web.AppKey[Revocations] = web.AppKey("revocations", Revocations)
