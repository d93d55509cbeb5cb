"""Applications: what a client sends to make or rename one, and what it reads back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from configsvc_contract.models.fields import Input, Ulid
from configsvc_contract.models.names import Comments, Name


class ApplicationIn(Input):
    """Body of POST and PUT /applications."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "billing", "comments": "Invoices and payments"}]}
    )

    name: Name
    comments: Comments = ""


class Application(BaseModel):
    id: Ulid
    name: str
    comments: str
    version: int = Field(ge=1, description="Starts at 1, grows by one with every change.")
    revision: int = Field(ge=1, description="Global revision of this resource's last change.")
    created_at: datetime
    updated_at: datetime


class ApplicationDetail(Application):
    configuration_ids: list[Ulid] = Field(description="Ids of its configurations, in id order.")


class ApplicationPage(BaseModel):
    items: list[Application]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
