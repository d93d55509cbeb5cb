"""What the other models are made of: ids, headers, JSON values, the base of every input.

Only pydantic and the standard library, here and in every module of the contract.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, RootModel, TypeAdapter

# A ULID as the service makes them: 26 characters of Crockford base32.
ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
# Every read says which global revision it reflects, every write which it committed; a read may
# ask for no older state than a revision (read-your-writes across the service's workers).
REVISION_HEADER = "Config-Revision"
MIN_REVISION_HEADER = "Config-Min-Revision"
# Deepest nesting of arrays and objects accepted in a body, a config or a feed message: deep
# enough for any real configuration, shallow enough for every recursive walk of it.
MAX_JSON_DEPTH = 64

Ulid = Annotated[str, Field(pattern=ID_PATTERN, examples=["01JDQ2Z8B6M4R1V3XK7N9P0TQS"])]
# What a stored JSON value may be, as the documents say it (PostgreSQL's jsonb holds no U+0000,
# in a key or a string, at any depth). Only for the schema: bodies are checked by the server.
NO_NUL = "^[^\\u0000]*$"
_KEYS = {"propertyNames": {"pattern": NO_NUL}}


class JsonValue(RootModel[Any]):
    """Any JSON value a configuration may hold (documents only; never used to validate)."""

    root: (
        Annotated[dict[str, JsonValue], Field(json_schema_extra=_KEYS)]
        | list[JsonValue]
        | Annotated[str, Field(pattern=NO_NUL)]
        | float
        | bool
        | None
    )


_JSON_OBJECT = TypeAdapter(Annotated[dict[str, JsonValue], Field(json_schema_extra=_KEYS)])


class JsonObjectSchema:
    """Documents a ``dict[str, Any]`` as a JSON object of JsonValues (validation unchanged)."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, _core: Any, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return handler(_JSON_OBJECT.core_schema)


ConfigObject = Annotated[
    dict[str, Any],
    JsonObjectSchema,
    Field(description="A JSON object; values may be any JSON (no U+0000 in a key or string)."),
]


class Input(BaseModel):
    """A request body or a client's feed message: no unknown field, no type coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)
