"""The calls on applications: create, read (with its ETag), replace, delete, list, find."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, overload

from configsvc_contract import models

from configsvc_client import replies, transport
from configsvc_client.transport import API, seg


class Applications(transport.Transport):
    """``ConfigClient``'s calls on applications."""

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
        reply = await self._call(
            "POST", f"{API}/applications", json=body, params=transport.dry(dry_run)
        )
        return replies.written(models.Application, reply, dry_run)

    async def get_application(self, application_id: str) -> models.ApplicationDetail:
        return (await self.get_application_tagged(application_id)).value

    async def get_application_tagged(
        self, application_id: str
    ) -> replies.Tagged[models.ApplicationDetail]:
        reply = await self._call("GET", f"{API}/applications/{seg(application_id)}")
        return replies.tagged(models.ApplicationDetail, reply)

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
            f"{API}/applications/{seg(application_id)}",
            json={"name": name, "comments": comments},
            headers=transport.if_match(if_match),
            params=transport.dry(dry_run),
        )
        return replies.written(models.Application, reply, dry_run)

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
        path = f"{API}/applications/{seg(application_id)}"
        reply = await self._call(
            "DELETE", path, headers=transport.if_match(if_match), params=transport.dry(dry_run)
        )
        return replies.dry_run_or_none(reply, dry_run)

    async def list_applications(
        self, *, limit: int | None = None, cursor: str | None = None, name: str | None = None
    ) -> models.ApplicationPage:
        params = transport.params(limit=limit, cursor=cursor, name=name)
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
