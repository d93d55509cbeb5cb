"""Reading what a client sends: JSON bodies, query parameters and conditional headers."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import pydantic
from aiohttp import web
from configsvc_client import models

from configsvc import errors

Model = TypeVar("Model", bound=pydantic.BaseModel)

JSON_TYPES = {"application/json"}
LIMIT_DEFAULT = 50
LIMIT_MAX = 500
_ETAG = re.compile(r'^"([0-9]{1,9})"$')
_DIGITS = re.compile(r"^[0-9]{1,4}$")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _storable(value: Any, path: str) -> list[tuple[str, str]]:
    """PostgreSQL text and jsonb cannot hold U+0000: report where it occurs."""
    if isinstance(value, str):
        return [(path, "must not contain the character U+0000")] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if "\x00" in key:
                found.append((path, "keys must not contain the character U+0000"))
            found.extend(_storable(item, f"{path}.{key}"))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _storable(item, f"{path}.{i}")]
    return []


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or 415 / 413 / 400."""
    if request.content_type not in JSON_TYPES:
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    raw = await request.read()  # 413 past client_max_size
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        # Lone surrogates (\ud800) decode but cannot be stored as UTF-8.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:
        raise errors.BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    return data


def validate(model: type[Model], data: dict[str, Any]) -> Model:
    """The body as ``model``, or 422 with one entry per bad field."""
    try:
        parsed = model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise errors.Invalid(
            [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        ) from exc
    found = [p for name, value in parsed for p in _storable(value, name)]
    if found:
        raise errors.Invalid(found)
    return parsed


async def body(request: web.Request, model: type[Model]) -> Model:
    return validate(model, await json_object(request))


def limit(request: web.Request, default: int = LIMIT_DEFAULT, maximum: int = LIMIT_MAX) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise errors.Invalid.one("limit", f"must be an integer from 1 to {maximum}")
    return int(raw)


def name_filter(request: web.Request) -> str | None:
    """The exact-name filter of a list; a name no resource can have is a 422, not a miss."""
    name = request.query.get("name")
    if name is not None and (len(name) > models.NAME_MAX or "\x00" in name):
        raise errors.Invalid.one("name", f"must be at most {models.NAME_MAX} characters, no U+0000")
    return name


def etag(version: int) -> str:
    return f'"{version}"'


def if_match(request: web.Request) -> int | None:
    """The version If-Match asks for: None without the header (or with ``*``), -1 for no match.

    Strong comparison (RFC 9110): a weak tag never matches.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    for tag in header.split(","):
        match = _ETAG.fullmatch(tag.strip())
        if match:
            return int(match.group(1))
    return -1


def none_match(request: web.Request, version: int) -> bool:
    """Whether If-None-Match names this version (weak comparison, as for GET)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag(version) in tags
