"""This worker's token cache: checking a token costs no query per request.

Keyed by the SHA-256 of the secret. A miss reads the database once and keeps the answer:

* Known tokens stay until the tokens NOTIFY names them (written, revoked), at most
  ``KNOWN_MAX_AGE_S`` as a safety net. The cache answers only while this worker's change
  listener is connected (:meth:`TokenCache.following`): while it is away a revoke made
  elsewhere would go unheard, so every request reads the token from the database until the
  listener is back, and everything cached before is dropped. Expiry is checked on every
  lookup against the cached ``expires_at``, so no notification is needed for it.
* Unknown secrets are cached too (negatively), so random garbage cannot force a query per
  request: in a bounded LRU (``UNKNOWN_MAX`` entries) for ``UNKNOWN_TTL_S``. Could a negative
  entry hide a token just created on another worker? Only if someone presented that exact
  secret *before* it existed, which for a random 256-bit secret nobody can; the one secret
  known in advance, BOOTSTRAP_ADMIN_TOKEN, is stored before the worker serves. Still, every
  tokens NOTIFY clears the negative entries (the notification is usually a creation), so the
  staleness is bounded by the notification latency as well as by the short TTL.

A notification may arrive while a miss is being read (the read saw the row as it was before
the change): each forget bumps a generation, and a read that straddled one is used for that
request but not kept, so the cache never holds what a notification already overtook.

Use is recorded in memory; :meth:`TokenCache.flush` writes ``last_used_at`` in one statement
for the tokens not written for a minute, so a token is written at most about once a minute.
"""

from __future__ import annotations

import time
from collections import OrderedDict

import asyncpg

from configsvc.auth import tokens
from configsvc.store import tokens as token_store

KNOWN_MAX = 10_000
KNOWN_MAX_AGE_S = 300.0
UNKNOWN_MAX = 10_000
UNKNOWN_TTL_S = 2.0
TOUCH_EVERY_S = 60.0


class TokenCache:
    """Tokens by secret hash (known and unknown), and which ones were used lately."""

    def __init__(self) -> None:
        self._known: OrderedDict[bytes, tuple[tokens.Token, float]] = OrderedDict()
        self._unknown: OrderedDict[bytes, float] = OrderedDict()
        self._touched: dict[str, float] = {}  # token id -> when last_used_at was last written
        self._pending: set[str] = set()
        self._generation = 0  # bumped by every forget/clear
        # Whether the tokens channel is heard now (set by the listener): only then can a
        # cached answer be trusted, since a revoke elsewhere is only known by its NOTIFY.
        self._following = False

    def cached(self, secret_hash: bytes) -> tuple[bool, tokens.Token | None]:
        """(hit, token): a hit with None is a secret known to be unknown."""
        if not self._following:
            return False, None
        now = time.monotonic()
        known = self._known.get(secret_hash)
        if known is not None and now - known[1] < KNOWN_MAX_AGE_S:
            return True, known[0]
        unknown_until = self._unknown.get(secret_hash)
        if unknown_until is not None and now < unknown_until:
            return True, None
        return False, None

    async def load(self, conn: asyncpg.Connection, secret_hash: bytes) -> tokens.Token | None:
        """Read the token from the database and remember the answer either way."""
        generation = self._generation
        found = await token_store.by_hash(conn, secret_hash)
        token = None if found is None else tokens.Token.from_resource(found)
        if generation == self._generation and self._following:
            self.put(secret_hash, token)
        return token

    def put(self, secret_hash: bytes, token: tokens.Token | None) -> None:
        now = time.monotonic()
        if token is not None:
            self._known[secret_hash] = (token, now)
            self._known.move_to_end(secret_hash)
            if len(self._known) > KNOWN_MAX:
                self._known.popitem(last=False)
        else:
            self._unknown[secret_hash] = now + UNKNOWN_TTL_S
            self._unknown.move_to_end(secret_hash)
            if len(self._unknown) > UNKNOWN_MAX:
                self._unknown.popitem(last=False)

    def forget(self, token_id: str) -> None:
        """A token changed somewhere: drop it, and every negative entry (it may be new)."""
        self._generation += 1
        self._unknown.clear()
        for key in [k for k, (t, _) in self._known.items() if t.id == token_id]:
            del self._known[key]

    def clear(self) -> None:
        self._generation += 1
        self._known.clear()
        self._unknown.clear()

    def following(self) -> None:
        """The listener hears the tokens channel (again): answers may be kept from now on.

        What was kept before it went away may have been revoked unheard: dropped here too.
        """
        self.clear()
        self._following = True

    def trusted(self) -> bool:
        """Whether what this worker holds of a token can be trusted: the stream is heard."""
        return self._following

    def lost(self) -> None:
        """The listener is away: nothing cached is trusted until :meth:`following`."""
        self._following = False
        self.clear()

    def used(self, token: tokens.Token) -> None:
        if time.monotonic() - self._touched.get(token.id, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            self._pending.add(token.id)

    async def flush(self, conn: asyncpg.Connection) -> int:
        """Write ``last_used_at`` of the tokens used since; returns how many were due."""
        if not self._pending:
            return 0
        due, self._pending = sorted(self._pending), set()
        now = time.monotonic()
        for token_id in due:
            self._touched[token_id] = now
        if len(self._touched) > KNOWN_MAX:
            self._touched = {k: v for k, v in self._touched.items() if now - v < TOUCH_EVERY_S}
        await token_store.touch(conn, due)
        return len(due)
