"""``ConfigClient``: typed calls for every REST endpoint of the configuration service."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, overload
from urllib.parse import quote

import aiohttp
import pydantic
from configsvc_contract import exactjson, models

from configsvc_client import backoff as backoff_mod
from configsvc_client import errors
from configsvc_client import watch as watch_mod

log = logging.getLogger(__name__)

T = TypeVar("T", bound=pydantic.BaseModel)

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
class Tagged(Generic[T]):
    """A resource with the ETag it was served with; pass ``etag`` as ``if_match`` to a write."""

    value: T
    etag: str


@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any
    text: str
    etag: str | None


def _seg(resource_id: str) -> str:
    # Ids may come from a command line; quoting keeps them one path segment.
    return quote(resource_id, safe="")


class ConfigClient:
    """An HTTP client for ``base_url`` (e.g. ``http://127.0.0.1:8080``).

    Every call has a ``timeout`` (seconds, whole request). GET, PUT and DELETE are retried up to
    ``retries`` times, with jittered exponential backoff, on connection errors, timeouts and
    502/503/504; POST is never retried. Use as ``async with ConfigClient(url) as client:``, or
    call ``close()``. A ``session`` passed in is used and left open. ``token``: the secret
    sent as ``Authorization: Bearer`` on every call and on the feed (default: the
    ``CONFIGSVC_TOKEN`` environment variable).

    A retried DELETE, or PUT with ``if_match``, whose first attempt did reach the database but
    whose answer was lost, ends in ``NotFound`` or ``PreconditionFailed``: read the resource
    again to tell.

    ``revision`` is the newest revision this client has written or seen (``Config-Revision``
    of every response, the revisions of its watches' feeds). With ``read_your_writes`` (the
    default) every GET sends it as ``Config-Min-Revision``, so whichever worker answers, the
    client never reads a state older than one it has already written or seen.
    """

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
        self.labels = {**watch_mod.default_labels(), **(labels or {})}
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or backoff_mod.Backoff(base=0.2, cap=5.0)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> ConfigClient:
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

    # --- applications ----------------------------------------------------------------------

    @overload
    async def create_application(
        self, name: str, comments: str = "", *, dry_run: Literal[False] = False
    ) -> models.Application: ...
    @overload
    async def create_application(
        self, name: str, comments: str = "", *, dry_run: Literal[True]
    ) -> models.DryRun: ...
    async def create_application(
        self, name: str, comments: str = "", *, dry_run: bool = False
    ) -> models.Application | models.DryRun:
        """A new application; with ``dry_run``, what creating it would do (nothing is written:
        every write method takes ``dry_run`` and then answers a ``models.DryRun``)."""
        body = {"name": name, "comments": comments}
        reply = await self._call("POST", f"{API}/applications", json=body, params=_dry(dry_run))
        return _written(models.Application, reply, dry_run)

    async def get_application(self, application_id: str) -> models.ApplicationDetail:
        return (await self.get_application_tagged(application_id)).value

    async def get_application_tagged(self, application_id: str) -> Tagged[models.ApplicationDetail]:
        reply = await self._call("GET", f"{API}/applications/{_seg(application_id)}")
        return _tagged(models.ApplicationDetail, reply)

    @overload
    async def replace_application(
        self,
        application_id: str,
        name: str,
        comments: str = "",
        *,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> models.Application: ...
    @overload
    async def replace_application(
        self,
        application_id: str,
        name: str,
        comments: str = "",
        *,
        if_match: str | None = None,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def replace_application(
        self, application_id: str, name: str, comments: str = "", *,
        if_match: str | None = None, dry_run: bool = False,
    ) -> models.Application | models.DryRun:  # fmt: skip
        reply = await self._call(
            "PUT",
            f"{API}/applications/{_seg(application_id)}",
            json={"name": name, "comments": comments},
            headers=_if_match(if_match),
            params=_dry(dry_run),
        )
        return _written(models.Application, reply, dry_run)

    @overload
    async def delete_application(
        self,
        application_id: str,
        *,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> None: ...
    @overload
    async def delete_application(
        self, application_id: str, *, if_match: str | None = None, dry_run: Literal[True]
    ) -> models.DryRun: ...
    async def delete_application(
        self, application_id: str, *, if_match: str | None = None, dry_run: bool = False
    ) -> models.DryRun | None:  # fmt: skip
        """Delete the application and its configurations."""
        path = f"{API}/applications/{_seg(application_id)}"
        reply = await self._call("DELETE", path, headers=_if_match(if_match), params=_dry(dry_run))
        return models.DryRun.model_validate(reply.body) if dry_run else None

    async def list_applications(
        self, *, limit: int | None = None, cursor: str | None = None, name: str | None = None
    ) -> models.ApplicationPage:
        params = _params(limit=limit, cursor=cursor, name=name)
        reply = await self._call("GET", f"{API}/applications", params=params)
        return models.ApplicationPage.model_validate(reply.body)

    async def iter_applications(
        self, *, name: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[models.Application]:
        """Every application (with ``name``, if given), walking the pages."""
        cursor: str | None = None
        while True:
            page = await self.list_applications(limit=page_size, cursor=cursor, name=name)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def find_application(self, name: str) -> models.Application | None:
        """The application called ``name``, or None."""
        page = await self.list_applications(name=name, limit=1)
        return page.items[0] if page.items else None

    # --- configurations --------------------------------------------------------------------

    @overload
    async def create_configuration(
        self,
        application_id: str,
        name: str,
        config: Mapping[str, Any],
        comments: str = "",
        *,
        dry_run: Literal[False] = False,
    ) -> models.Configuration: ...
    @overload
    async def create_configuration(
        self,
        application_id: str,
        name: str,
        config: Mapping[str, Any],
        comments: str = "",
        *,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def create_configuration(
        self, application_id: str, name: str, config: Mapping[str, Any], comments: str = "",
        *, dry_run: bool = False,
    ) -> models.Configuration | models.DryRun:  # fmt: skip
        body = {
            "application_id": application_id,
            "name": name,
            "comments": comments,
            "config": dict(config),
        }
        reply = await self._call("POST", f"{API}/configurations", json=body, params=_dry(dry_run))
        return _written(models.Configuration, reply, dry_run)

    async def get_configuration(self, configuration_id: str) -> models.Configuration:
        return (await self.get_configuration_tagged(configuration_id)).value

    async def get_configuration_tagged(self, configuration_id: str) -> Tagged[models.Configuration]:
        reply = await self._call("GET", f"{API}/configurations/{_seg(configuration_id)}")
        return _tagged(models.Configuration, reply)

    @overload
    async def replace_configuration(
        self,
        configuration_id: str,
        name: str,
        config: Mapping[str, Any],
        comments: str = "",
        *,
        application_id: str | None = None,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> models.Configuration: ...
    @overload
    async def replace_configuration(
        self,
        configuration_id: str,
        name: str,
        config: Mapping[str, Any],
        comments: str = "",
        *,
        application_id: str | None = None,
        if_match: str | None = None,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def replace_configuration(
        self, configuration_id: str, name: str, config: Mapping[str, Any], comments: str = "",
        *, application_id: str | None = None, if_match: str | None = None,
        dry_run: bool = False,
    ) -> models.Configuration | models.DryRun:  # fmt: skip
        """Replace the configuration; ``application_id``, if given, must be its current one.
        A config that fails its schema raises ``errors.ValidationFailed`` (its ``errors`` name
        each violation); with ``dry_run``, the answer says so instead (``valid``)."""
        body: dict[str, Any] = {"name": name, "comments": comments, "config": dict(config)}
        if application_id is not None:
            body["application_id"] = application_id
        reply = await self._call(
            "PUT",
            f"{API}/configurations/{_seg(configuration_id)}",
            json=body,
            headers=_if_match(if_match),
            params=_dry(dry_run),
        )
        return _written(models.Configuration, reply, dry_run)

    @overload
    async def delete_configuration(
        self,
        configuration_id: str,
        *,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> None: ...
    @overload
    async def delete_configuration(
        self, configuration_id: str, *, if_match: str | None = None, dry_run: Literal[True]
    ) -> models.DryRun: ...
    async def delete_configuration(
        self, configuration_id: str, *, if_match: str | None = None, dry_run: bool = False
    ) -> models.DryRun | None:  # fmt: skip
        path = f"{API}/configurations/{_seg(configuration_id)}"
        reply = await self._call("DELETE", path, headers=_if_match(if_match), params=_dry(dry_run))
        return models.DryRun.model_validate(reply.body) if dry_run else None

    async def list_configurations(
        self, application_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.ConfigurationPage:
        path = f"{API}/applications/{_seg(application_id)}/configurations"
        reply = await self._call("GET", path, params=_params(limit=limit, cursor=cursor))
        return models.ConfigurationPage.model_validate(reply.body)

    async def iter_configurations(
        self, application_id: str, *, page_size: int | None = None
    ) -> AsyncIterator[models.Configuration]:
        """Every configuration of the application, walking the pages."""
        cursor: str | None = None
        while True:
            page = await self.list_configurations(application_id, limit=page_size, cursor=cursor)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def find_configuration(
        self, application_id: str, name: str
    ) -> models.Configuration | None:
        """The application's configuration called ``name``, or None."""
        async for item in self.iter_configurations(application_id, page_size=500):
            if item.name == name:
                return item
        return None

    # --- history and rollback ----------------------------------------------------------------

    async def versions(
        self, configuration_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.ConfigurationVersionPage:
        """A configuration's versions, newest first (also for a deleted one)."""
        path = f"{API}/configurations/{_seg(configuration_id)}/versions"
        reply = await self._call("GET", path, params=_params(limit=limit, cursor=cursor))
        return models.ConfigurationVersionPage.model_validate(reply.body)

    async def version(self, configuration_id: str, version: int) -> models.ConfigurationVersion:
        """One version; ``errors.Gone`` once history has pruned it."""
        path = f"{API}/configurations/{_seg(configuration_id)}/versions/{int(version)}"
        return models.ConfigurationVersion.model_validate((await self._call("GET", path)).body)

    async def diff(self, configuration_id: str, old: int, new: int) -> models.Diff:
        """The JSON Patch (and name/comments changes) from version ``old`` to ``new``."""
        path = f"{API}/configurations/{_seg(configuration_id)}/diff"
        reply = await self._call("GET", path, params=_params(**{"from": old, "to": new}))
        return models.Diff.model_validate(reply.body)

    @overload
    async def rollback(
        self,
        configuration_id: str,
        to_version: int,
        *,
        reason: str | None = None,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> models.Configuration: ...
    @overload
    async def rollback(
        self,
        configuration_id: str,
        to_version: int,
        *,
        reason: str | None = None,
        if_match: str | None = None,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def rollback(
        self, configuration_id: str, to_version: int, *, reason: str | None = None,
        if_match: str | None = None, dry_run: bool = False,
    ) -> models.Configuration | models.DryRun:  # fmt: skip
        """A new version equal to ``to_version``; restores a deleted configuration."""
        path = f"{API}/configurations/{_seg(configuration_id)}/rollback"
        headers = {**(_if_match(if_match) or {}), **_reason(reason)}
        reply = await self._call(
            "POST", path, json={"to_version": to_version}, headers=headers, params=_dry(dry_run)
        )
        return _written(models.Configuration, reply, dry_run)

    @overload
    async def rollback_application(
        self,
        application_id: str,
        to_revision: int,
        *,
        reason: str | None = None,
        empty_ok: bool = False,
        dry_run: Literal[False] = False,
    ) -> models.ApplicationRollback: ...
    @overload
    async def rollback_application(
        self,
        application_id: str,
        to_revision: int,
        *,
        reason: str | None = None,
        empty_ok: bool = False,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def rollback_application(
        self, application_id: str, to_revision: int, *, reason: str | None = None,
        empty_ok: bool = False, dry_run: bool = False,
    ) -> models.ApplicationRollback | models.DryRun:  # fmt: skip
        """Every configuration of the application as it was at ``to_revision``, in one step.
        A revision from before the application existed (which empties it) needs ``empty_ok``."""
        path = f"{API}/applications/{_seg(application_id)}/rollback"
        body: dict[str, Any] = {"to_revision": to_revision}
        if empty_ok:
            body["empty_ok"] = True
        reply = await self._call(
            "POST", path, json=body, headers=_reason(reason), params=_dry(dry_run)
        )
        return _written(models.ApplicationRollback, reply, dry_run)

    # --- JSON Schemas ------------------------------------------------------------------------

    def _schema_path(self, application_id: str, name: str) -> str:
        return f"{API}/applications/{_seg(application_id)}/schemas/{_seg(name)}"

    @overload
    async def put_schema(
        self,
        application_id: str,
        name: str,
        schema: Mapping[str, Any],
        *,
        force: bool = False,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> models.Schema: ...
    @overload
    async def put_schema(
        self,
        application_id: str,
        name: str,
        schema: Mapping[str, Any],
        *,
        force: bool = False,
        if_match: str | None = None,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def put_schema(
        self, application_id: str, name: str, schema: Mapping[str, Any], *, force: bool = False,
        if_match: str | None = None, dry_run: bool = False,
    ) -> models.Schema | models.DryRun:  # fmt: skip
        """Add or replace the JSON Schema (draft 2020-12) of configuration ``name`` (``*``: of
        every configuration without its own). ``errors.Conflict`` if current configurations
        would fail it, unless ``force``; ``errors.ValidationFailed`` if it is not a schema."""
        params = {**(_dry(dry_run) or {}), **({"force": "true"} if force else {})}
        reply = await self._call(
            "PUT", self._schema_path(application_id, name), json=dict(schema),
            headers=_if_match(if_match), params=params,
        )  # fmt: skip
        return _written(models.Schema, reply, dry_run)

    async def get_schema(self, application_id: str, name: str) -> models.Schema:
        reply = await self._call("GET", self._schema_path(application_id, name))
        return models.Schema.model_validate(reply.body)

    async def list_schemas(
        self, application_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.SchemaPage:
        path = f"{API}/applications/{_seg(application_id)}/schemas"
        reply = await self._call("GET", path, params=_params(limit=limit, cursor=cursor))
        return models.SchemaPage.model_validate(reply.body)

    @overload
    async def delete_schema(
        self,
        application_id: str,
        name: str,
        *,
        force: bool = False,
        if_match: str | None = None,
        dry_run: Literal[False] = False,
    ) -> None: ...
    @overload
    async def delete_schema(
        self,
        application_id: str,
        name: str,
        *,
        force: bool = False,
        if_match: str | None = None,
        dry_run: Literal[True],
    ) -> models.DryRun: ...
    async def delete_schema(
        self, application_id: str, name: str, *, force: bool = False,
        if_match: str | None = None, dry_run: bool = False,
    ) -> models.DryRun | None:  # fmt: skip
        """Its configurations fall back to the ``*`` schema (checked like a change), or none."""
        params = {**(_dry(dry_run) or {}), **({"force": "true"} if force else {})}
        reply = await self._call(
            "DELETE", self._schema_path(application_id, name), headers=_if_match(if_match),
            params=params,
        )  # fmt: skip
        return models.DryRun.model_validate(reply.body) if dry_run else None

    async def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI document."""
        body: dict[str, Any] = (await self._call("GET", f"{API}/openapi.json")).body
        return body

    # --- the live feed ---------------------------------------------------------------------

    def watch(
        self,
        application: str,
        *,
        cache_path: str | None = None,
        validate: watch_mod.Validator | None = None,
        backoff: backoff_mod.Backoff | None = None,
        start_timeout: float | None = 30.0,
        heartbeat: float = 30.0,
    ) -> watch_mod.Watch:
        """A live view of an application's configurations: ``async with client.watch(app)``.

        ``application`` is its id (26-character ULID) or its name. ``cache_path``: the
        last-known-good file to keep and to start from when the service is unreachable.
        ``validate(name, config)``: return False or raise to reject a new config. ``backoff``:
        reconnect delays (default 0.5 s doubling to 30 s, full jitter). ``start_timeout``: how
        long entering waits for the first snapshot when there is no cache. See ``watch.Watch``.
        """
        return watch_mod.Watch(
            self,
            application,
            cache_path=cache_path,
            validate=validate,
            backoff=backoff,
            start_timeout=start_timeout,
            heartbeat=heartbeat,
        )

    def saw(self, revision: int) -> None:
        """Note a revision the service has committed (a watch calls this for its feed)."""
        self.revision = max(self.revision, revision)

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Bearer <token>``, or nothing without a token."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def ws_url(self) -> str:
        """The feed's WebSocket URL."""
        return self.base_url.replace("http", "ws", 1) + f"{API}/ws"

    # --- plumbing --------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> _Reply:
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
    ) -> _Reply:
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
            return _Reply(resp.status, _decode(resp, text), text, resp.headers.get("ETag"))

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


def _tagged(model: type[T], reply: _Reply) -> Tagged[T]:
    return Tagged(model.model_validate(reply.body), reply.etag or "")


def _dry(dry_run: bool) -> dict[str, str] | None:
    return {"dry_run": "true"} if dry_run else None


def _written(model: type[T], reply: _Reply, dry_run: bool) -> T | models.DryRun:
    """The resource a write answered, or the dry run's answer."""
    return models.DryRun.model_validate(reply.body) if dry_run else model.model_validate(reply.body)


def _if_match(etag: str | None) -> dict[str, str] | None:
    return {"If-Match": etag} if etag is not None else None


def _reason(reason: str | None) -> dict[str, str]:
    return {"X-Change-Reason": reason} if reason else {}


def _params(**values: str | int | None) -> dict[str, str]:
    return {key: str(value) for key, value in values.items() if value is not None}
