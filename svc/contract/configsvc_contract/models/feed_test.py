from __future__ import annotations

import pydantic
import pytest

from configsvc_contract.models import feed


def test_feed_messages_are_told_apart_by_type() -> None:
    adapter: pydantic.TypeAdapter[feed.ServerMessage] = pydantic.TypeAdapter(feed.ServerMessage)
    msg = adapter.validate_python({"type": "synced", "application_id": "A", "revision": 3})
    assert isinstance(msg, feed.Synced)
    change = adapter.validate_python(
        {"type": "change", "application_id": "A", "revision": 4, "op": "updated",
         "rollout": {"id": "r", "step": 1}}
    )  # fmt: skip
    assert isinstance(change, feed.Change)
    assert change.rollout == feed.ChangeRollout(id="r", step=1)


def test_a_resume_names_the_entry_it_saw_as_a_uuid() -> None:
    with pytest.raises(pydantic.ValidationError):
        feed.Subscribe.model_validate({"type": "subscribe", "since": 3, "since_entry_id": "x"})


def test_a_hello_is_bounded() -> None:
    labels = {str(i): "v" for i in range(feed.LABELS_MAX + 1)}
    with pytest.raises(pydantic.ValidationError):
        feed.Hello.model_validate({"type": "hello", "client_id": "c", "labels": labels})
