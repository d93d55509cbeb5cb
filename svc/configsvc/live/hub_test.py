"""Fan-out rules, driven straight into the hub of a real server and read from real sockets."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from configsvc.live import follow, hub, peer
from configsvc.store import changes


def entry(revision: int, op: str = "updated", app: str = "A", pad: int = 0) -> changes.Entry:
    return changes.Entry(revision, app, op, json.dumps({"id": "C", "name": "n", "pad": "x" * pad}))


@pytest.fixture
async def wired(client):
    """(hub, the server's peer, the client's socket) for one fresh WebSocket."""
    fanout = client.app[follow.HUB]
    before = set(fanout.peers)
    ws = await client.ws_connect("/api/v1/ws", max_msg_size=0)
    async with asyncio.timeout(5):
        while not (fanout.peers - before):
            await asyncio.sleep(0.01)
    (server_side,) = fanout.peers - before
    yield fanout, server_side, ws
    await ws.close()


async def revisions(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[int]:
    return [json.loads((await ws.receive(timeout=5)).data)["revision"] for _ in range(count)]


def test_the_change_frame_is_the_documented_message() -> None:
    frame = json.loads(hub.change_frame(entry(7)))
    assert frame == {"type": "change", "application_id": "A", "revision": 7, "op": "updated",
                     "reason": None, "request_id": None,
                     "configuration": {"id": "C", "name": "n", "pad": ""},
                     "actor": None, "entry_id": None}  # fmt: skip
    assert "application" in json.loads(hub.change_frame(entry(8, "application_updated")))


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 300_000])
async def test_frames_written_directly_are_read_back_intact_at_every_length(wired, size) -> None:
    fanout, server_side, ws = wired
    fanout.subscribe(server_side, "A").synced(0)
    await fanout.dispatch([entry(1, pad=size)])
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.TEXT
    assert len(json.loads(msg.data)["configuration"]["pad"]) == size


async def test_changes_held_while_syncing_go_out_once_after_the_snapshot_revision(
    wired,
) -> None:
    fanout, server_side, ws = wired
    sub = fanout.subscribe(server_side, "A")
    for rev in (4, 5, 6):
        await fanout.dispatch([entry(rev)])
    sub.synced(5)  # the snapshot already holds 4 and 5
    await fanout.dispatch([entry(6)])  # a repeat never goes out twice
    await fanout.dispatch([entry(7)])
    assert await revisions(ws, 2) == [6, 7]


async def test_a_peer_that_lets_the_backlog_fill_is_closed_with_4008_others_are_not(
    client, wired
) -> None:
    fanout, slow, _ = wired
    fast_ws = await client.ws_connect("/api/v1/ws", max_msg_size=0)
    async with asyncio.timeout(5):
        while len(fanout.peers) < 2:
            await asyncio.sleep(0.01)
    (fast,) = fanout.peers - {slow}
    slow.limit = 300_000
    for p in (slow, fast):
        fanout.subscribe(p, "A").synced(0)
    rev = 0
    while slow.close_code is None and rev < 500:  # the slow client reads nothing
        rev += 1
        await fanout.dispatch([entry(rev, pad=100_000)])
        assert (await revisions(fast_ws, 1)) == [rev]  # the fast one reads every change
    assert slow.close_code == peer.CLOSE_TOO_SLOW
    assert slow.subscriptions == {}
    assert fast.close_code is None
    assert fanout.subscription_count == 1
    await fast_ws.close()


async def test_too_much_held_back_while_syncing_also_closes(wired) -> None:
    fanout, server_side, _ = wired
    server_side.limit = 100
    fanout.subscribe(server_side, "A")
    for rev in range(1, 5):
        await fanout.dispatch([entry(rev)])
    assert server_side.close_code == peer.CLOSE_TOO_SLOW


async def test_application_deleted_ends_the_subscription_and_created_is_not_sent(wired) -> None:
    fanout, server_side, ws = wired
    fanout.subscribe(server_side, "A").synced(0)
    await fanout.dispatch([entry(1, "application_created")])
    await fanout.dispatch([entry(2, "application_deleted")])
    await fanout.dispatch([entry(3)])
    assert json.loads((await ws.receive(timeout=5)).data)["op"] == "application_deleted"
    assert server_side.subscriptions == {}
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=0.3)


async def test_a_big_fan_out_lets_the_worker_serve_others_between_its_chunks(
    client, monkeypatch
) -> None:
    """A worker holding many sockets answers requests during a fan-out, not after it."""
    monkeypatch.setattr(hub, "FANOUT_SLICE_S", 0.0)  # every check finds its slice used up
    monkeypatch.setattr(hub, "FANOUT_CHECK", 2)
    fanout = client.app[follow.HUB]
    before = set(fanout.peers)
    sockets = [await client.ws_connect("/api/v1/ws") for _ in range(5)]
    async with asyncio.timeout(5):
        while len(fanout.peers - before) < 5:
            await asyncio.sleep(0.01)
    peers = list(fanout.peers - before)
    for each in peers:
        fanout.subscribe(each, "A").synced(0)
    seen: list[int] = []
    dispatching = asyncio.create_task(fanout.dispatch([entry(1)]))
    # Runs at the first turn of the loop the fan-out gives up: how far it had got by then.
    asyncio.get_running_loop().call_soon(lambda: seen.append(sum(p.queued > 0 for p in peers)))
    await dispatching
    assert seen == [2]
    for ws in sockets:  # and every subscriber still got the change
        assert json.loads((await ws.receive(timeout=5)).data)["revision"] == 1
        await ws.close()


async def test_a_burst_across_applications_reaches_a_socket_in_revision_order(
    wired, monkeypatch
) -> None:
    """Runs of one application's changes go out together, a slice at a time, yet a socket
    subscribed to two applications still sees every revision in order."""
    monkeypatch.setattr(hub, "FANOUT_SLICE_S", 0.0)
    monkeypatch.setattr(hub, "FANOUT_CHECK", 1)
    fanout, server_side, ws = wired
    for app in ("A", "B"):
        fanout.subscribe(server_side, app).synced(0)
    burst = [entry(1, app="A"), entry(2, app="A"), entry(3, app="B"), entry(4, app="A"),
             entry(5, "application_deleted", app="B"), entry(6, app="B"),
             entry(7, app="A")]  # fmt: skip
    await fanout.dispatch(burst)
    assert await revisions(ws, 6) == [1, 2, 3, 4, 5, 7]
    assert set(server_side.subscriptions) == {"A"}
