"""Fan-out rules that hold whatever the socket does."""

from __future__ import annotations

import json

from configsvc import changes, hub


def entry(revision: int, op: str = "updated", app: str = "A") -> changes.Entry:
    return changes.Entry(revision, app, op, json.dumps({"id": "C", "name": "n"}))


def drain(peer: hub.Peer) -> list[str | None]:
    out = []
    while not peer.queue.empty():
        out.append(peer.queue.get_nowait())
    return out


def test_the_change_frame_is_the_documented_message() -> None:
    frame = json.loads(hub.change_frame(entry(7)))
    assert frame == {"type": "change", "application_id": "A", "revision": 7, "op": "updated",
                     "configuration": {"id": "C", "name": "n"}}  # fmt: skip
    assert "application" in json.loads(hub.change_frame(entry(8, "application_updated")))


def test_changes_held_while_syncing_go_out_once_after_the_snapshot_revision() -> None:
    fanout, peer = hub.Hub(), hub.Peer(10, "p")
    sub = fanout.subscribe(peer, "A")
    for rev in (4, 5, 6):
        fanout.dispatch(entry(rev))
    assert drain(peer) == []
    sub.synced(5)  # the snapshot already holds 4 and 5
    assert [json.loads(f)["revision"] for f in drain(peer) if f] == [6]
    fanout.dispatch(entry(6))  # a repeat never goes out twice
    fanout.dispatch(entry(7))
    assert [json.loads(f)["revision"] for f in drain(peer) if f] == [7]


def test_a_full_queue_closes_that_peer_with_4008_and_spares_the_others() -> None:
    fanout = hub.Hub()
    slow, fast = hub.Peer(2, "slow"), hub.Peer(100, "fast")
    for peer in (slow, fast):
        fanout.subscribe(peer, "A").synced(0)
    for rev in range(1, 6):
        fanout.dispatch(entry(rev))
        drain(fast) if rev == 5 else None
    assert slow.close_code == hub.CLOSE_TOO_SLOW
    assert drain(slow) == [None], "queued frames are dropped; the client resumes with since"
    assert slow.subscriptions == {}
    assert fast.close_code is None
    assert fanout.subscription_count == 1


def test_too_much_held_back_while_syncing_also_closes() -> None:
    fanout, peer = hub.Hub(), hub.Peer(2, "p")
    fanout.subscribe(peer, "A")
    for rev in range(1, 5):
        fanout.dispatch(entry(rev))
    assert peer.close_code == hub.CLOSE_TOO_SLOW


def test_application_deleted_ends_the_subscription_and_created_is_not_sent() -> None:
    fanout, peer = hub.Hub(), hub.Peer(10, "p")
    fanout.subscribe(peer, "A").synced(0)
    fanout.dispatch(entry(1, "application_created"))
    fanout.dispatch(entry(2, "application_deleted"))
    fanout.dispatch(entry(3))
    assert [json.loads(f)["op"] for f in drain(peer) if f] == ["application_deleted"]
    assert peer.subscriptions == {}
