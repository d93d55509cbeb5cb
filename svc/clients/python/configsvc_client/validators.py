"""A live view's validator: the function that may refuse a new config, and how its verdict
is read (an exception, False, or an async function by mistake: each refuses, saying why)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

Validator = Callable[[str, dict[str, Any]], bool | None]
"""Called with (configuration name, new config); returning False or raising rejects it."""


def refusal(validate: Validator, name: str, config: dict[str, Any]) -> str | None:
    """Why ``validate`` refuses ``config``, or None if it takes it."""
    try:
        verdict = validate(name, config)
    except Exception as exc:
        return f"{exc.__class__.__name__}: {exc}"
    if inspect.isawaitable(verdict):
        # An async validator's coroutine is truthy: accepting it would accept anything.
        _discard(verdict)
        return "the validator must be a plain function, not async"
    return "the validator returned False" if verdict is False else None


def _discard(awaitable: object) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()  # no "never awaited" warning
