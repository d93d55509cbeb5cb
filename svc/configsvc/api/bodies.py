"""Reading what a client sends: JSON bodies, query parameters and conditional headers."""

from __future__ import annotations

import asyncio
import decimal
import json
import re
from typing import Any, TypeVar

import pydantic
from aiohttp import web
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod

Model = TypeVar("Model", bound=pydantic.BaseModel)

JSON_TYPES = {"application/json"}
LIMIT_DEFAULT = 50
LIMIT_MAX = 500
# Digits a number may have before and after its decimal point. PostgreSQL's numeric takes
# more after the point (16383); before it, Python refuses to read back an integer of more
# than 4300 digits, so what could be stored but not shown is refused here.
INTEGER_DIGITS_MAX = 4000
FRACTION_DIGITS_MAX = 16383
# An entity tag as this API writes them (`"7"`) or any other, strong or weak (RFC 9110 8.8.3).
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
_VERSION_TAG = re.compile(r'^"([1-9][0-9]{0,8})"$')
_DIGITS = re.compile(r"^[0-9]{1,4}$")
# A JSON string, a key (a string and its colon), or a bracket: all _too_deep needs to see.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?|[\[\]{}]')


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _number_problem(value: decimal.Decimal) -> str | None:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # parse_float never makes NaN or Infinity
    if value and value.adjusted() >= INTEGER_DIGITS_MAX:
        return f"numbers may have at most {INTEGER_DIGITS_MAX} digits before the point"
    if -exponent > FRACTION_DIGITS_MAX:
        return f"numbers may have at most {FRACTION_DIGITS_MAX} digits after the point"
    return None


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str) and "\x00" in value:
        return "must not contain the character U+0000"
    if isinstance(value, decimal.Decimal):
        return _number_problem(value)
    return None


def _storable(value: Any, path: str) -> list[tuple[str, str]]:
    """What PostgreSQL's jsonb cannot hold (U+0000, numbers past numeric's range), by place.

    Iterative, and only called on values no deeper than ``models.MAX_JSON_DEPTH``.
    """
    found, stack = [], [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            if any("\x00" in key for key in item):
                found.append((where, "keys must not contain the character U+0000"))
            stack.extend((child, f"{where}.{key}") for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}") for i, child in enumerate(item))
        elif (problem := _scalar_problem(item)) is not None:
            found.append((where, problem))
    return found


def _too_deep(text: str) -> str | None:
    """The body's field whose value nests past ``models.MAX_JSON_DEPTH`` ("body" if outside
    a field), or None. Read from the text, before parsing it, without recursion: a parser or a
    walk would meet the interpreter's recursion limit at a depth that depends on the stack.
    """
    limit = models.MAX_JSON_DEPTH + 1  # the body object is the first level
    if text.count("[") + text.count("{") <= limit:  # the common case, at C speed
        return None
    depth, field = 0, "body"
    for token in _TOKEN.finditer(text):
        first = token.group()[0]
        if first == '"':
            if depth == 1 and token.group(1):
                field = token.group()[: token.start(1) - token.start()].strip('"')
        elif first in "[{":
            depth += 1
            if depth > limit:
                return field
        else:
            depth -= 1
    return None


def _refuse_depth(field: str) -> None:
    if field == "body":  # not even an object with fields: a malformed body
        raise errors.BadRequest(f"the body nests more than {models.MAX_JSON_DEPTH} levels deep")
    raise errors.Invalid.one(field, f"must not nest more than {models.MAX_JSON_DEPTH} levels deep")


async def _read(request: web.Request) -> bytes:
    """The body, or 408 if it does not arrive within BODY_READ_TIMEOUT_S."""
    timeout = request.app[settings_mod.SETTINGS].body_read_timeout_s
    try:
        async with asyncio.timeout(timeout):
            return await request.read()  # 413 past client_max_size
    except TimeoutError as exc:
        # Give up on the rest, so the connection is not kept open to read it after the 408
        # (aiohttp's lingering close), and close it: the stream is out of step anyway.
        request.content.feed_eof()
        raise web.HTTPRequestTimeout(text=f"the body did not arrive within {timeout:g} s") from exc


async def json_object(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or 415 / 413 / 408 / 400 / 422 (nested too deeply)."""
    if request.content_type not in JSON_TYPES:
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    raw = await _read(request)
    try:
        text = raw.decode("utf-8")
        if (field := _too_deep(text)) is not None:
            _refuse_depth(field)
        data = json.loads(text, parse_constant=_no_constant, parse_float=decimal.Decimal)
    except (UnicodeError, ValueError) as exc:
        raise errors.BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise errors.BadRequest(f"the body must be a JSON object, not {type(data).__name__}")
    try:  # Lone surrogates (\ud800) decode but cannot be stored as UTF-8.
        json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeError as exc:
        raise errors.BadRequest(f"the body is not valid JSON: {exc}") from exc
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


def flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter: ``true`` or ``false`` (absent: false); else 422 naming it."""
    raw = request.query.get(name, "false")
    if raw not in ("true", "false"):
        raise errors.Invalid.one(name, "must be true or false")
    return raw == "true"


def storable(value: Any, field: str) -> None:
    """Invalid (naming where) if PostgreSQL's jsonb cannot hold ``value`` (U+0000, numbers past
    numeric's range)."""
    found = _storable(value, field)
    if found:
        raise errors.Invalid(found)


def name_filter(request: web.Request) -> str | None:
    """The exact-name filter of a list, normalised as names are; one no resource can have is
    a 422, not a miss."""
    name = request.query.get("name")
    if name is None:
        return None
    if len(name) > models.NAME_MAX:
        raise errors.Invalid.one("name", f"must be at most {models.NAME_MAX} characters")
    try:
        return models.normal_name(name)
    except ValueError as exc:
        raise errors.Invalid.one("name", str(exc)) from exc


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) for each member of an entity-tag list; None if it is not one."""
    tags, at = [], 0
    while at < len(header):
        match = _ENTITY_TAG.match(header, at)
        if match is None or match.end() == at:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        at = match.end()
    return tags


def if_match(request: web.Request) -> frozenset[int] | None:
    """The versions If-Match accepts: None without the header or with ``*`` (any current
    version; a missing resource is still a 404), else the strong tags' versions, compared as
    octets (``"01"`` is not ``"1"``). Weak tags never match; a malformed header matches nothing.
    """
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for weak, tag in _tags(header) or []:
        match = _VERSION_TAG.fullmatch(tag)
        if match and not weak:
            versions.add(int(match.group(1)))
    return frozenset(versions)


def none_match(request: web.Request, version: int) -> bool:
    """Whether If-None-Match names this version: ``*``, or any member of the list by weak
    comparison (``W/"3"`` matches ``"3"``)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(tag == etag(version) for _weak, tag in _tags(header) or [])


REASON_HEADER = "X-Change-Reason"


def change_reason(request: web.Request) -> str:
    """``X-Change-Reason``: optional; the rules of ``comments`` (at most 1,024 characters, NFC,
    no control or format characters but line breaks and tabs), else a 422 naming the header."""
    reason = request.headers.get(REASON_HEADER, "")
    try:
        reason.encode("utf-8")
        reason = models.normal_comments(reason)
    except (UnicodeError, ValueError) as exc:
        raise errors.Invalid.one(REASON_HEADER, f"is not storable text: {exc}") from exc
    if len(reason) > models.COMMENTS_MAX:
        raise errors.Invalid.one(REASON_HEADER, f"must be at most {models.COMMENTS_MAX} characters")
    return reason


MIN_REVISION_HEADER = models.MIN_REVISION_HEADER
MIN_REVISION_PARAM = "min_revision"
# Revisions are PostgreSQL bigints.
REVISION_MAX = 2**63 - 1
_REVISION = re.compile(r"^[0-9]{1,19}$")


def _at_most(top: str) -> str:
    """A regex for the digit strings (leading zeros allowed) of at most ``top``'s value."""
    shorter = f"[0-9]{{1,{len(top) - 1}}}"
    same = [f"{top[:i]}[0-{int(d) - 1}][0-9]{{{len(top) - i - 1}}}"
            for i, d in enumerate(top) if d != "0"]  # fmt: skip
    return f"^({'|'.join([shorter, *same, top])})$"


# A header's value is text: what min_revision accepts in one, as the document says it.
REVISION_PATTERN = _at_most(str(REVISION_MAX))


def min_revision(request: web.Request) -> int:
    """The oldest state a read may answer from: ``Config-Min-Revision`` or ``?min_revision``
    (the higher, if both); 0 without either. Anything but a non-negative integer is a 422
    naming the header or parameter."""
    wanted = 0
    for name, raw in (
        (MIN_REVISION_HEADER, request.headers.get(MIN_REVISION_HEADER)),
        (MIN_REVISION_PARAM, request.query.get(MIN_REVISION_PARAM)),
    ):
        if raw is None:
            continue
        if not _REVISION.fullmatch(raw.strip()) or int(raw) > REVISION_MAX:
            raise errors.Invalid.one(name, f"must be an integer from 0 to {REVISION_MAX}")
        wanted = max(wanted, int(raw))
    return wanted
