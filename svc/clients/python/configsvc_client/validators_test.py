from __future__ import annotations

from typing import Any

import pytest

from configsvc_client import validators


def refuse(name: str, config: dict[str, Any]) -> bool:
    return False


def explode(name: str, config: dict[str, Any]) -> bool:
    raise ValueError("rate too high")


async def asynchronous(name: str, config: dict[str, Any]) -> bool:
    return True


@pytest.mark.parametrize(
    ("validate", "why"),
    [
        (lambda name, config: None, None),
        (lambda name, config: True, None),
        (refuse, "the validator returned False"),
        (explode, "ValueError: rate too high"),
        (asynchronous, "the validator must be a plain function, not async"),
    ],
)
def test_what_a_verdict_means(validate, why) -> None:  # type: ignore[no-untyped-def]
    assert validators.refusal(validate, "limits", {"rate": 1}) == why
