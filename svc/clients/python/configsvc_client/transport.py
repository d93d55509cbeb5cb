"""``Transport``: what every call goes through. The session, the token, retries, and the
newest revision written or seen (read-your-writes across the service's workers)."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp
from configsvc_contract import exactjson, models

from configsvc_client import backoff as backoff_mod
from configsvc_client import errors, identity

log = logging.getLogger(__name__)

API = "/api/v1"
# Safe to send twice: a repeated GET, PUT (full replacement) or DELETE leaves the same state.
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
# Worth another try: a proxy or load balancer found no healthy worker, or the service is busy.
_RETRY_STATUS = frozenset({502, 503, 504})
_TRANSIENT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)
# Read-your-writes across the service's workers: every response says which revision it
# reflects; a read asks for no older state than the newest this client has written or seen.
REVISION_HEADER = models.REVISION_HEADER
MIN_REVISION_HEADER = models.MIN_REVISION_HEADER


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: its status, its body (parsed JSON, or None), its text, its ETag."""

    status: int
    body: Any
    text: str
    etag: str | None


class Transport:
    """The HTTP side of ``ConfigClient`` (see there), and what a ``Watch`` connects with."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: backoff_mod.Backoff | None = None,
        session: aiohttp.ClientSession | None = None,
        token: str | None = None,
        labels: dict[str, str] | None = None,
        read_your_writes: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_your_writes = read_your_writes
        self.revision = 0
        # The secret goes in the Authorization header only, never in a URL or a log line.
        self.token = token if token is not None else os.environ.get("CONFIGSVC_TOKEN")
        # Who this process is in the service's fleet view (sent in each feed's hello): the
        # defaults (host, pid, service = program name) overridden or extended by `labels`.
        self.labels = {**identity.default_labels(), **(labels or {})}
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or backoff_mod.Backoff(base=0.2, cap=5.0)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session, made on first use (inside the running event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    def saw(self, revision: int) -> None:
        """Note a revision the service has committed (a watch calls this for its feed)."""
        self.revision = max(self.revision, revision)

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>``, or nothing without a token."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def ws_url(self) -> str:
        """The feed's WebSocket URL."""
        return self.base_url.replace("http", "ws", 1) + f"{API}/ws"

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        attempts = self.retries + 1 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                reply = await self._send(method, path, json, params, headers)
            except _TRANSIENT as exc:
                if last:
                    raise errors.Unavailable(f"{method} {path}: {_describe(exc)}") from exc
                log.info("%s %s failed (%r), retrying", method, path, exc)
            else:
                if reply.status < 400:
                    return reply
                if last or reply.status not in _RETRY_STATUS:
                    raise errors.from_response(reply.status, reply.body, reply.text)
                log.info("%s %s answered %d, retrying", method, path, reply.status)
            await asyncio.sleep(self.backoff.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, str] | None,
        headers: dict[str, str] | None,
    ) -> Reply:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        headers = {**self.auth_headers(), **(headers or {})}
        wanted = self.revision if self.read_your_writes and method == "GET" else 0
        if wanted:
            headers[MIN_REVISION_HEADER] = str(wanted)
        if json is not None:  # written by hand: aiohttp's json= would refuse a Decimal
            headers["Content-Type"] = "application/json"
        data = None if json is None else exactjson.dumps(json).encode()
        async with self.session.request(
            method, self.base_url + path, data=data, params=params, headers=headers,
            timeout=timeout,
        ) as resp:  # fmt: skip
            text = await resp.text()
            self._note(resp.headers.get(REVISION_HEADER), wanted)
            return Reply(resp.status, _decode(resp, text), text, resp.headers.get("ETag"))

    def _note(self, header: str | None, wanted: int) -> None:
        if header is None or not (header.isascii() and header.isdigit() and len(header) < 20):
            return
        revision = int(header)
        if revision < wanted:
            # Answered from the database, yet older than what was asked for: the service's
            # history was rewound (a restore, a failover). Follow it rather than ask forever.
            self.revision = revision
        else:
            self.saw(revision)


def _decode(resp: aiohttp.ClientResponse, text: str) -> Any:
    # Errors from outside our handlers (a proxy, aiohttp's own 405) may be plain text.
    if not text or "json" not in resp.content_type:
        return None
    try:
        return exactjson.loads(text)  # fractions as Decimal: exactly what the service stored
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__  # a timeout has no message of its own


# --- what a call puts in its path, query and headers -----------------------------------------


def seg(resource_id: str) -> str:
    """An id as one path segment: ids may come from a command line, and quoting keeps them so."""
    return quote(resource_id, safe="")


def dry(dry_run: bool) -> dict[str, str] | None:
    """The query of a write asked to only say what it would do."""
    return {"dry_run": "true"} if dry_run else None


def if_match(etag: str | None) -> dict[str, str] | None:
    return {"If-Match": etag} if etag is not None else None


def reason(text: str | None) -> dict[str, str]:
    return {"X-Change-Reason": text} if text else {}


def params(**values: str | int | None) -> dict[str, str]:
    """Query parameters, those given (not None) only."""
    return {key: str(value) for key, value in values.items() if value is not None}
