"""The console: its sessions (a cookie standing for a token) and its search."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from configsvc_contract.models.fields import NO_NUL, Input, Ulid
from configsvc_contract.models.tokens import Token


class SessionIn(Input):
    """Body of POST /sessions: the token; or `{}`, with the token in `Authorization: Bearer`."""

    token: str | None = Field(default=None, max_length=256, pattern=NO_NUL)


class Session(BaseModel):
    """A console session: the token it stands for, when it ends, its CSRF value."""

    id: Ulid
    expires_at: datetime
    csrf_token: str = Field(
        description="Send it as `X-CSRF-Token` with every write made with the cookie."
    )
    token: Token


class SearchMatch(BaseModel):
    """Where a hit matched: a name, or a key or scalar value at a JSON pointer."""

    where: Literal["application_name", "configuration_name", "key", "value"]
    path: str | None = Field(description="JSON pointer into the config (keys, values).")
    text: str = Field(description="What matched (at most 200 characters).")


class SearchHit(BaseModel):
    """An application or a configuration that matched, with up to 10 of its matches."""

    id: Ulid
    kind: Literal["application", "configuration"]
    application_id: Ulid
    application_name: str
    configuration_name: str | None
    match_count: int
    matches: list[SearchMatch]


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None
