"""The calls on configurations: create, read (with its ETag), replace, delete, list, find."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, overload

from configsvc_contract import models

from configsvc_client import replies, transport
from configsvc_client.transport import API, seg


class Configurations(transport.Transport):
    """``ConfigClient``'s calls on configurations."""

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
        reply = await self._call(
            "POST", f"{API}/configurations", json=body, params=transport.dry(dry_run)
        )
        return replies.written(models.Configuration, reply, dry_run)

    async def get_configuration(self, configuration_id: str) -> models.Configuration:
        return (await self.get_configuration_tagged(configuration_id)).value

    async def get_configuration_tagged(
        self, configuration_id: str
    ) -> replies.Tagged[models.Configuration]:
        reply = await self._call("GET", f"{API}/configurations/{seg(configuration_id)}")
        return replies.tagged(models.Configuration, reply)

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
            f"{API}/configurations/{seg(configuration_id)}",
            json=body,
            headers=transport.if_match(if_match),
            params=transport.dry(dry_run),
        )
        return replies.written(models.Configuration, reply, dry_run)

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
        path = f"{API}/configurations/{seg(configuration_id)}"
        reply = await self._call(
            "DELETE", path, headers=transport.if_match(if_match), params=transport.dry(dry_run)
        )
        return replies.dry_run_or_none(reply, dry_run)

    async def list_configurations(
        self, application_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.ConfigurationPage:
        path = f"{API}/applications/{seg(application_id)}/configurations"
        reply = await self._call("GET", path, params=transport.params(limit=limit, cursor=cursor))
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
