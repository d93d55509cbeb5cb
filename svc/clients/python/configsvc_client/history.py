"""The calls on history: a configuration's versions, a diff between two, the rollbacks."""

from __future__ import annotations

from typing import Any, Literal, overload

from configsvc_contract import models

from configsvc_client import replies, transport
from configsvc_client.transport import API, seg


class History(transport.Transport):
    """``ConfigClient``'s calls on history and rollback."""

    async def versions(
        self, configuration_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.ConfigurationVersionPage:
        """A configuration's versions, newest first (also for a deleted one)."""
        path = f"{API}/configurations/{seg(configuration_id)}/versions"
        reply = await self._call("GET", path, params=transport.params(limit=limit, cursor=cursor))
        return models.ConfigurationVersionPage.model_validate(reply.body)

    async def version(self, configuration_id: str, version: int) -> models.ConfigurationVersion:
        """One version; ``errors.Gone`` once history has pruned it."""
        path = f"{API}/configurations/{seg(configuration_id)}/versions/{int(version)}"
        return models.ConfigurationVersion.model_validate((await self._call("GET", path)).body)

    async def diff(self, configuration_id: str, old: int, new: int) -> models.Diff:
        """The JSON Patch (and name/comments changes) from version ``old`` to ``new``."""
        path = f"{API}/configurations/{seg(configuration_id)}/diff"
        reply = await self._call("GET", path, params=transport.params(**{"from": old, "to": new}))
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
        path = f"{API}/configurations/{seg(configuration_id)}/rollback"
        headers = {**(transport.if_match(if_match) or {}), **transport.reason(reason)}
        reply = await self._call(
            "POST",
            path,
            json={"to_version": to_version},
            headers=headers,
            params=transport.dry(dry_run),
        )
        return replies.written(models.Configuration, reply, dry_run)

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
        path = f"{API}/applications/{seg(application_id)}/rollback"
        body: dict[str, Any] = {"to_revision": to_revision}
        if empty_ok:
            body["empty_ok"] = True
        reply = await self._call(
            "POST", path, json=body, headers=transport.reason(reason), params=transport.dry(dry_run)
        )
        return replies.written(models.ApplicationRollback, reply, dry_run)
