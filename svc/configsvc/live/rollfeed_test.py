"""What a rollout's change-log entry sends: a change frame to each subscriber whose place it
changes (the candidate coming in, the base on an abort), nothing to the others."""

from __future__ import annotations

from typing import Any

from configsvc_contract import exactjson

from configsvc.live import peer, rollfeed
from configsvc.service import rollouts
from configsvc.store import changes
from configsvc.store import rollouts as store

RID = "01JDQ2Z8B6M4R1V3XK7N9P0TQS"
BASE = {"id": "01JDQ2Z8B6M4R1V3XK7N9P0TQT", "application_id": "app", "name": "prod",
        "comments": "", "config": {"limit": 1}, "version": 3}  # fmt: skip
STEPS = [{"percent": 10}, {"percent": 50}, {"percent": 100}]


def _row(step: int, state: str = "running") -> dict[str, Any]:
    return {"id": RID, "step": step, "state": state, "steps": STEPS, "labels": {},
            "candidate": {"limit": 2}, "comments": None, "base_version": 3,
            "configuration_id": BASE["id"]}  # fmt: skip


def _entry(step: int, previous: int, state: str = "running") -> changes.Entry:
    resource = rollouts.entry(_row(step, state), BASE, previous)
    return changes.Entry(41, "app", "rollout", exactjson.dumps(resource), reason="why")


def _peer(client_id: str | None) -> peer.Peer:
    to = peer.Peer(None, None, None, 0, 0, "p")  # type: ignore[arg-type]
    to.client_id = client_id
    return to


def _who() -> tuple[str, str, str]:
    """A client in the first 10 %, one in the first 50 % only, one outside both."""
    ids = [f"c{i}" for i in range(400)]

    def share(percent: int) -> set[str]:
        return {c for c in ids if store.targeted(RID, percent, {}, c, {})}

    ten, fifty = share(10), share(50)
    return min(ten), min(fifty - ten), min(set(ids) - fifty)


def test_a_step_sends_the_candidate_only_to_the_clients_it_takes_in() -> None:
    early, new, outside = _who()
    stepped = _entry(1, 10)
    assert rollfeed.frame_for(stepped, _peer(early)) is None, "it has the candidate already"
    assert rollfeed.frame_for(stepped, _peer(outside)) is None
    assert rollfeed.frame_for(stepped, _peer(None)) is None, "no client_id: only at 100 %"
    sent = rollfeed.frame_for(stepped, _peer(new))
    assert sent is not None
    frame = exactjson.loads(sent)
    assert (frame["type"], frame["op"], frame["revision"], frame["reason"]) == (
        "change", "updated", 41, "why")  # fmt: skip
    assert (frame["configuration"]["config"], frame["configuration"]["version"]) == (
        {"limit": 2}, 4)  # fmt: skip
    assert frame["rollout"] == {"id": RID, "step": 1}


def test_an_abort_sends_the_base_back_to_those_who_had_the_candidate() -> None:
    early, new, outside = _who()
    aborted = _entry(1, 50, state="aborted")
    for who in (early, new):
        sent = rollfeed.frame_for(aborted, _peer(who))
        assert sent is not None
        assert exactjson.loads(sent)["configuration"] == BASE
    assert rollfeed.frame_for(aborted, _peer(outside)) is None


def test_a_snapshot_holds_the_candidate_only_while_the_base_is_current() -> None:
    early, _, outside = _who()
    running = [_row(0)]
    for who, want in ((early, {"limit": 2}), (outside, {"limit": 1})):
        configs = [dict(BASE)]
        rollfeed.in_snapshot(configs, running, _peer(who))
        assert configs[0]["config"] == want, who
    moved_on = [{**BASE, "version": 4, "config": {"limit": 7}}]
    rollfeed.in_snapshot(moved_on, running, _peer(early))
    assert moved_on[0]["config"] == {"limit": 7}
