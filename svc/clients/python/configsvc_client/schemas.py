"""The calls on JSON Schemas: store (or check) one, read, list, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from configsvc_contract import models

from configsvc_client import replies, transport
from configsvc_client.transport import API, seg


class Schemas(transport.Transport):
    """``ConfigClient``'s calls on the JSON Schemas of an application's configurations."""

    def _schema_path(self, application_id: str, name: str) -> str:
        return f"{API}/applications/{seg(application_id)}/schemas/{seg(name)}"

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
        params = {**(transport.dry(dry_run) or {}), **({"force": "true"} if force else {})}
        reply = await self._call(
            "PUT", self._schema_path(application_id, name), json=dict(schema),
            headers=transport.if_match(if_match), params=params,
        )  # fmt: skip
        return replies.written(models.Schema, reply, dry_run)

    async def get_schema(self, application_id: str, name: str) -> models.Schema:
        reply = await self._call("GET", self._schema_path(application_id, name))
        return models.Schema.model_validate(reply.body)

    async def list_schemas(
        self, application_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.SchemaPage:
        path = f"{API}/applications/{seg(application_id)}/schemas"
        reply = await self._call("GET", path, params=transport.params(limit=limit, cursor=cursor))
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
        params = {**(transport.dry(dry_run) or {}), **({"force": "true"} if force else {})}
        reply = await self._call(
            "DELETE", self._schema_path(application_id, name), headers=transport.if_match(if_match),
            params=params,
        )  # fmt: skip
        return replies.dry_run_or_none(reply, dry_run)
