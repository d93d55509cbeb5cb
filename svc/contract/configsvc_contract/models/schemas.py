"""JSON Schemas of configurations: the document stored, the resource, its versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from configsvc_contract.models.fields import JsonObjectSchema, Ulid
from configsvc_contract.models.history import Actor


class SchemaDocument(RootModel[Annotated[dict[str, Any], JsonObjectSchema]]):
    """A JSON Schema (draft 2020-12) as a JSON object; only local `$ref`s (`#...`)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"type": "object", "required": ["db_pool"],
                                         "properties": {"db_pool": {"type": "integer",
                                                                    "maximum": 100}}}]}
    )  # fmt: skip


class Schema(BaseModel):
    id: Ulid
    application_id: Ulid
    name: str = Field(description="The configuration name it covers, or `*`: every one "
                      "without a schema of its own.")  # fmt: skip
    schema_: dict[str, Any] = Field(alias="schema")
    version: int = Field(ge=1)
    revision: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime


class SchemaPage(BaseModel):
    items: list[Schema]
    next_cursor: str | None


class SchemaVersion(BaseModel):
    schema_id: Ulid
    version: int
    revision: int
    op: Literal["created", "updated", "deleted"]
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    actor: Actor | None
    reason: str | None
    request_id: str | None
    committed_at: datetime


class SchemaVersionPage(BaseModel):
    items: list[SchemaVersion]
    next_cursor: str | None
