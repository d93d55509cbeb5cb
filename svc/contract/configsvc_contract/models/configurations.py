"""Configurations: the bodies that create and replace one, the resource (with how it fares
against its JSON Schema), its page."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from configsvc_contract.models.fields import ConfigObject, Input, Ulid
from configsvc_contract.models.names import Comments, Name


class ConfigurationIn(Input):
    """Body of POST /configurations."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "application_id": "01JDQ2Z8B6M4R1V3XK7N9P0TQS",
                    "name": "production",
                    "config": {"db_pool": 10, "features": {"dark_mode": True}},
                }
            ]
        }
    )

    application_id: str
    name: Name
    comments: Comments = ""
    config: ConfigObject


class ConfigurationReplace(Input):
    """Body of PUT /configurations/{id}; ``application_id``, if given, must be the current one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "production", "comments": "", "config": {"db_pool": 20}}]
        }
    )

    application_id: str | None = None
    name: Name
    comments: Comments = ""
    config: ConfigObject


class SchemaViolation(BaseModel):
    """One way a body fails a JSON Schema (or a schema fails the draft 2020-12 meta-schema)."""

    field: str = Field(description="JSON pointer into the request body, without the first '/' "
                       "(`config/limits/rate`).")  # fmt: skip
    keyword: str = Field(description="The schema keyword that failed, e.g. `maximum`.")
    message: str
    configuration_id: str | None = Field(
        default=None, description="Which configuration, when a write checks several."
    )
    name: str | None = Field(default=None, description="Its name, when it is not the body's.")


SchemaStatus = Literal["none", "valid", "invalid"]


class Configuration(BaseModel):
    id: Ulid
    application_id: Ulid
    name: str
    comments: str
    config: dict[str, Any]
    version: int = Field(ge=1)
    revision: int = Field(ge=1)
    created_at: datetime
    updated_at: datetime
    schema_status: SchemaStatus = Field(
        default="none",
        description="`none`: no schema covers it; `valid`; `invalid`: a schema stored with "
        "`force=true` fails it (see `schema_errors`) until it is fixed.",
    )
    schema_errors: list[SchemaViolation] = Field(default_factory=list)


class ConfigurationPage(BaseModel):
    items: list[Configuration]
    next_cursor: str | None
