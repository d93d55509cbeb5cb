"""The live view's bookkeeping, fed feed messages built from the shared models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from configsvc_contract import models

from configsvc_client import errors, events, live

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")

APP = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def conf(n: int, name: str, config: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {
        "id": f"01JDQ2Z8B6M4R1V3XK7N9P0T{n:02d}",
        "application_id": APP,
        "name": name,
        "comments": "",
        "config": config,
        "version": version,
        "revision": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


def snapshot(revision: int, *configs: dict[str, Any], reset: bool = False) -> models.Snapshot:
    return models.Snapshot(
        type="snapshot",
        application_id=APP,
        revision=revision,
        configurations=[models.Configuration.model_validate(c) for c in configs],
        reset=reset,
    )


def change(revision: int, op: models.ChangeOp, configuration: dict[str, Any]) -> models.Change:
    return models.Change(
        type="change", application_id=APP, revision=revision, op=op, configuration=configuration
    )


def test_a_snapshot_fills_the_mapping_and_reports_each_name() -> None:
    view = live.LiveConfig("billing")
    seen: list[tuple[str, Any, Any]] = []
    view.on_change(lambda name, old, new: seen.append((name, old, new)))
    view.apply_snapshot(snapshot(5, conf(1, "a", {"x": 1}), conf(2, "b", {"y": 2})), "billing")
    assert dict(view) == {"a": {"x": 1}, "b": {"y": 2}}
    assert len(view) == 2
    assert view.revision == 5
    assert view.application_id == APP
    assert view.application_name == "billing"
    assert seen == [("a", None, {"x": 1}), ("b", None, {"y": 2})]
    configuration = view.configuration("a")
    assert configuration is not None
    assert configuration.version == 1


def test_a_reset_snapshot_replaces_everything_and_reports_removed_and_changed() -> None:
    view = live.LiveConfig(APP)
    view.apply_snapshot(snapshot(5, conf(1, "a", {"x": 1}), conf(2, "b", {"y": 2})), None)
    seen: list[tuple[str, Any, Any]] = []
    view.on_change(lambda name, old, new: seen.append((name, old, new)))
    view.apply_snapshot(snapshot(9, conf(2, "b", {"y": 3}), conf(3, "c", {}), reset=True), None)
    assert dict(view) == {"b": {"y": 3}, "c": {}}
    assert seen == [("a", {"x": 1}, None), ("b", {"y": 2}, {"y": 3}), ("c", None, {})]
    assert view.application_name is None


def test_changes_apply_in_order_and_duplicates_are_ignored() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(5), "billing")
    assert view.apply_change(change(6, "created", conf(1, "a", {"x": 1})))
    assert view.apply_change(change(7, "updated", conf(1, "a", {"x": 2}, version=2)))
    assert not view.apply_change(change(7, "updated", conf(1, "a", {"x": 2}, version=2)))
    assert not view.apply_change(change(6, "created", conf(1, "a", {"x": 1})))
    assert view["a"] == {"x": 2}
    assert view.revision == 7
    assert view.apply_change(change(8, "deleted", {"id": conf(1, "a", {})["id"], "name": "a"}))
    assert "a" not in view
    # Deleting what is not there, and changing only the comments, report nothing.
    assert view.apply_change(change(9, "deleted", {"id": conf(5, "z", {})["id"], "name": "z"}))
    assert view.apply_change(change(10, "created", conf(2, "b", {"k": 1})))
    quiet = conf(2, "b", {"k": 1}, version=2) | {"comments": "why"}
    generation = view._generation
    assert view.apply_change(change(11, "updated", quiet))
    assert view._generation == generation
    b = view.configuration("b")
    assert b is not None
    assert b.comments == "why"


def test_a_rename_reports_the_old_name_gone_and_the_new_one_there() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(1, conf(1, "a", {"x": 1})), "billing")
    stream = view.events()
    view.apply_change(change(2, "updated", conf(1, "b", {"x": 1}, version=2)))
    assert dict(view) == {"b": {"x": 1}}
    assert [(e.name, e.op) for e in stream._queue._queue] == [  # type: ignore[attr-defined]
        ("a", "deleted"),
        ("b", "created"),
    ]


def test_application_changes() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(1, conf(1, "a", {"x": 1})), "billing")
    renamed = models.Change(
        type="change",
        application_id=APP,
        revision=2,
        op="application_updated",
        application={"id": APP, "name": "invoicing"},
    )
    assert view.apply_change(renamed)
    assert view.application_name == "invoicing"
    gone = models.Change(type="change", application_id=APP, revision=3, op="application_deleted")
    assert view.apply_change(gone)
    assert view.deleted
    assert view.closed
    assert dict(view) == {}


def test_a_malformed_configuration_is_skipped_but_its_revision_counts() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(1), "billing")
    assert view.apply_change(change(2, "created", {"id": "nonsense"}))
    assert dict(view) == {}
    assert view.revision == 2


def test_the_validator_rejects_and_the_last_good_value_stays() -> None:
    def validate(name: str, config: dict[str, Any]) -> bool:
        if config.get("rate", 0) < 0:
            raise ValueError("rate must not be negative")
        return config.get("rate") != 13

    view = live.LiveConfig("billing", validate=validate)
    view.apply_snapshot(snapshot(1, conf(1, "a", {"rate": 1}), conf(2, "b", {"rate": -1})), None)
    assert dict(view) == {"a": {"rate": 1}}
    stream = view.events()
    view.apply_change(change(2, "updated", conf(1, "a", {"rate": -5}, version=2)))
    view.apply_change(change(3, "updated", conf(1, "a", {"rate": 13}, version=3)))
    assert view["a"] == {"rate": 1}
    assert view.revision == 3
    assert [(r.name, r.revision) for r in view.rejections] == [("b", 1), ("a", 2), ("a", 3)]
    assert "ValueError: rate must not be negative" in view.rejections[1].reason
    assert "returned False" in view.rejections[2].reason
    queued = list(stream._queue._queue)  # type: ignore[attr-defined]
    assert all(isinstance(e, events.Rejection) for e in queued)
    # A snapshot that brings a rejected value again keeps the old one too.
    view.apply_snapshot(snapshot(4, conf(1, "a", {"rate": 13}), conf(2, "b", {"rate": 2})), None)
    assert dict(view) == {"a": {"rate": 1}, "b": {"rate": 2}}


def test_a_failing_callback_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    view = live.LiveConfig("billing")
    seen: list[str] = []

    @view.on_change
    def broken(name: str, old: Any, new: Any) -> None:
        raise RuntimeError("boom")

    view.on_change(lambda name, old, new: seen.append(name))
    view.apply_snapshot(snapshot(1, conf(1, "a", {})), None)
    assert seen == ["a"]
    assert "callback" in caplog.text


async def test_changed_wakes_on_a_change_and_raises_once_closed() -> None:
    view = live.LiveConfig("billing")
    waiter = asyncio.create_task(view.changed())
    await asyncio.sleep(0)
    view.set_stale(False)  # not a change to the mapping
    await asyncio.sleep(0)
    assert not waiter.done()
    view.apply_snapshot(snapshot(1, conf(1, "a", {})), None)
    async with asyncio.timeout(5):
        await waiter
    waiter = asyncio.create_task(view.changed())
    await asyncio.sleep(0)
    view.close()
    with pytest.raises(errors.WatchClosed):
        async with asyncio.timeout(5):
            await waiter
    with pytest.raises(errors.WatchClosed):
        await view.changed()


async def test_fresh_waits_for_the_first_sync() -> None:
    view = live.LiveConfig("billing")
    waiter = asyncio.create_task(view.fresh())
    await asyncio.sleep(0)
    assert not waiter.done()
    view.set_stale(False)
    async with asyncio.timeout(5):
        await waiter
    await view.fresh()
    view.set_stale(True)
    view.close()
    with pytest.raises(errors.WatchClosed):
        await view.fresh()


async def test_events_arrive_in_order_and_end_when_the_view_closes() -> None:
    view = live.LiveConfig("billing")
    stream = view.events()
    view.apply_snapshot(snapshot(1, conf(1, "a", {"v": 1})), None)
    view.apply_change(change(2, "updated", conf(1, "a", {"v": 2})))
    view.close()
    got = [(e.name, e.revision) async for e in stream]
    assert got == [("a", 1), ("a", 2)]
    assert [e async for e in view.events()] == []  # a closed view has nothing more to say


async def test_a_stalled_event_consumer_is_told_it_overflowed() -> None:
    view = live.LiveConfig("billing")
    stream = view.events(maxsize=2)
    view.apply_snapshot(snapshot(1), None)
    for revision in range(2, 6):
        view.apply_change(change(revision, "created", conf(revision, f"c{revision}", {})))
    assert stream.overflowed
    assert [e.revision for e in [await stream.__anext__(), await stream.__anext__()]] == [2, 3]
    with pytest.raises(errors.EventsOverflow):
        await stream.__anext__()
    # The others keep going; a stream closed by its consumer gets nothing more.
    other = view.events()
    other.close()
    view.apply_change(change(6, "created", conf(6, "c6", {})))
    assert other._queue.empty()


def test_the_cache_state_round_trips() -> None:
    view = live.LiveConfig("billing")
    assert view.snapshot() is None
    view.apply_snapshot(snapshot(3, conf(1, "a", {"x": [1, 2]})), "billing")
    state = view.snapshot()
    assert state is not None
    again = live.LiveConfig("billing")
    again.load(state)
    assert dict(again) == {"a": {"x": [1, 2]}}
    assert again.revision == 3
    assert again.stale


def test_a_rollback_is_applied_as_one_step() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(5, conf(1, "a", {"x": 1}), conf(2, "b", {"y": 2})), "billing")
    wakes: list[dict[str, Any]] = []
    view.on_change(lambda name, old, new: wakes.append(dict(view)))
    generation = view._generation
    message = models.Change(
        type="change", application_id=APP, revision=9, op="rolled_back",
        configurations=[conf(1, "b", {"x": 0}), conf(3, "c", {})],
        deleted=[conf(2, "b", {})["id"]],
    )  # fmt: skip
    assert view.apply_change(message)
    assert dict(view) == {"b": {"x": 0}, "c": {}}
    assert view._generation == generation + 1, "one wake for the whole rollback"
    assert wakes == [{"b": {"x": 0}, "c": {}}] * 3, "every callback sees the whole result"


def test_a_malformed_configuration_in_a_rollback_is_skipped_not_fatal() -> None:
    view = live.LiveConfig("billing")
    view.apply_snapshot(snapshot(5, conf(1, "a", {"x": 1})), "billing")
    message = models.Change(
        type="change", application_id=APP, revision=6, op="rolled_back",
        configurations=[{"id": "broken"}, conf(2, "b", {})], deleted=[],
    )  # fmt: skip
    assert view.apply_change(message)
    assert dict(view) == {"a": {"x": 1}, "b": {}}
    assert view.revision == 6
