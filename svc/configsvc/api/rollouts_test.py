"""Rollouts from outside: REST on a real server, real WebSocket clients sending hello and ack."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from configsvc.api.conftest import API, make, refusal
from configsvc.api.openapi_test import call, doc, every_status  # noqa: F401 (fixtures)
from configsvc.store import rollouts as store

PATIENCE = 20.0
SLOW = [{"percent": 50, "hold_s": 3600}, {"percent": 100, "hold_s": 3600}]


async def setup(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[type-arg]
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": {"limit": 1}}
    return app, await make(client, "POST", "/configurations", json=body)


def body(**over: Any) -> dict[str, Any]:
    return {"config": {"limit": 2}, "reason": "try 2", "steps": SLOW,
            "abort_on": {"rejected": 1}, **over}  # fmt: skip


async def start(client: TestClient, cfg: dict[str, Any], **over: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    resp = await client.post(f"{API}/configurations/{cfg['id']}/rollouts", json=body(**over),
                             headers={"If-Match": f'"{cfg["version"]}"'})  # fmt: skip
    assert resp.status == 201, await resp.text()
    made: dict[str, Any] = await resp.json()
    assert resp.headers["Location"] == f"{API}/configurations/{cfg['id']}/rollouts/{made['id']}"
    return made


def ids_in(rollout_id: str, percent: int, n: int = 400) -> set[str]:
    return {f"c{i}" for i in range(n) if store.targeted(rollout_id, percent, {}, f"c{i}", {})}


async def test_bad_bodies_name_each_field_and_change_nothing(client) -> None:
    _, cfg = await setup(client)
    path, etag = f"/configurations/{cfg['id']}/rollouts", {"If-Match": f'"{cfg["version"]}"'}
    cases = [
        ({"steps": []}, "steps"),
        ({"steps": [{"percent": 10}] * 11}, "steps"),
        ({"steps": [{"percent": 0}, {"percent": 100}]}, "steps.0.percent"),
        ({"steps": [{"percent": 50}, {"percent": 40}, {"percent": 100}]}, "steps.1.percent"),
        ({"steps": [{"percent": 50}]}, "steps.0.percent"),
        ({"steps": [{"percent": 100, "hold_s": 86401}]}, "steps.0.hold_s"),
        ({"steps": [{"percent": 100, "hold_s": -1}]}, "steps.0.hold_s"),
        ({"abort_on": {"rejected": 0}}, "abort_on.rejected"),
        ({"reason": ""}, "reason"),
        ({"config": []}, "config"),
        ({"labels": {"": "x"}}, "labels"),
    ]
    for over, field in cases:
        found = await refusal(client, "POST", path, 422, json=body(**over), headers=etag)
        assert any(e["field"].startswith(field) for e in found["errors"]), (over, found)
    found = await refusal(client, "POST", path, 422, json=body())  # no If-Match
    assert [e["field"] for e in found["errors"]] == ["If-Match"]
    await refusal(client, "POST", path, 412, json=body(), headers={"If-Match": '"9"'})
    assert (await make(client, "GET", path))["items"] == []


async def test_the_candidate_must_satisfy_the_schema(client) -> None:
    app, cfg = await setup(client)
    schema = {"type": "object", "properties": {"limit": {"type": "integer", "maximum": 5}}}
    await make(client, "PUT", f"/applications/{app['id']}/schemas/prod", json=schema)
    path, etag = f"/configurations/{cfg['id']}/rollouts", {"If-Match": f'"{cfg["version"]}"'}
    found = await refusal(client, "POST", path, 422, json=body(config={"limit": 9}), headers=etag)
    assert [e["field"] for e in found["errors"]] == ["config/limit"]


async def test_one_running_rollout_blocks_plain_writes_until_it_ends(client) -> None:
    _, cfg = await setup(client)
    made = await start(client, cfg)
    assert (made["state"], made["step"], made["percent"], made["base_version"]) == (
        "running", 0, 50, 1)  # fmt: skip
    assert made["candidate"] == {"config": {"limit": 2}}
    assert made["reason"] == "try 2"
    path, etag = f"/configurations/{cfg['id']}", {"If-Match": '"1"'}
    again = await refusal(client, "POST", f"{path}/rollouts", 409, json=body(), headers=etag)
    assert "running rollout" in again["detail"]
    put = {"name": "prod", "config": {"limit": 3}}
    for method, kw in (("PUT", {"json": put}), ("DELETE", {})):
        refused = await refusal(client, method, path, 409, headers=etag, **kw)
        assert made["id"] in refused["detail"]
    assert (await make(client, "GET", path))["config"] == {"limit": 1}, "reads get the base"
    one = f"{path}/rollouts/{made['id']}"
    stepped = await make(client, "POST", f"{one}/promote", json={"reason": "looks fine"})
    assert (stepped["state"], stepped["step"], stepped["percent"]) == ("running", 1, 100)
    done = await make(client, "POST", f"{one}/promote", json={"reason": "ship it"})
    assert done["state"] == "promoted"
    now = await make(client, "GET", path)
    assert (now["config"], now["version"]) == ({"limit": 2}, 2)
    for action in ("promote", "abort"):
        await refusal(client, "POST", f"{one}/{action}", 409, json={"reason": "again"})
    assert [r["id"] for r in (await make(client, "GET", f"{path}/rollouts"))["items"]] == [
        made["id"]]  # fmt: skip
    await make(client, "PUT", path, json=put, headers={"If-Match": '"2"'})


async def test_a_read_only_token_cannot_start_promote_or_abort(client) -> None:
    app, cfg = await setup(client)
    made = await start(client, cfg)
    token = await make(
        client,
        "POST",
        "/tokens",
        json={"name": "reader", "grants": [{"application_id": app["id"], "access": "read"}]},
    )
    reader = {"Authorization": f"Bearer {token['token']}", "If-Match": '"1"'}
    path = f"/configurations/{cfg['id']}/rollouts"
    await refusal(client, "POST", path, 403, json=body(), headers=reader)
    for action in ("promote", "abort"):
        await refusal(client, "POST", f"{path}/{made['id']}/{action}", 403,
                      json={"reason": "no"}, headers=reader)  # fmt: skip
    seen = await make(client, "GET", f"{path}/{made['id']}", headers=reader)
    assert (seen["state"], seen["step"]) == ("running", 0)


async def hello(client: TestClient, app_id: str, client_id: str | None,  # type: ignore[type-arg]
                labels: dict[str, str] | None = None, since: int | None = None
                ) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:  # fmt: skip
    ws = await client.ws_connect("/api/v1/ws")
    if client_id is not None:
        await ws.send_json({"type": "hello", "client_id": client_id, "labels": labels or {}})
    sub: dict[str, Any] = {"type": "subscribe", "application_id": app_id}
    if since is not None:
        sub["since"] = since
    await ws.send_json(sub)
    first = await ws.receive_json(timeout=10)
    return ws, first


async def frames(ws: aiohttp.ClientWebSocketResponse, wait: float = 1.5) -> list[dict[str, Any]]:
    got = []
    try:
        while True:
            got.append(await ws.receive_json(timeout=wait))
    except TimeoutError:
        return got


def in_and_out(rollout_id: str, percent: int) -> tuple[str, str]:
    ins = ids_in(rollout_id, percent, 200)
    return sorted(ins)[0], sorted({f"c{i}" for i in range(200)} - ins)[0]


async def test_targeted_clients_get_the_candidate_and_a_rejection_aborts_within_a_second(
    client,
) -> None:
    app, cfg = await setup(client)
    made = await start(client, cfg, labels={"region": "eu"})
    inside, outside = in_and_out(made["id"], 50)
    ws_in, snap_in = await hello(client, app["id"], inside, {"region": "eu"})
    ws_out, snap_out = await hello(client, app["id"], outside, {"region": "eu"})
    ws_us, snap_us = await hello(client, app["id"], inside, {"region": "us"})
    ws_anon, _ = await hello(client, app["id"], None)
    assert snap_in["configurations"][0]["config"] == {"limit": 2}, "the candidate, in place"
    assert snap_in["configurations"][0]["version"] == 2
    for snap in (snap_out, snap_us):
        assert snap["configurations"][0]["config"] == {"limit": 1}
    path = f"/configurations/{cfg['id']}"
    # The promotion to 100 % reaches the others with labels that match, not the rest.
    await make(client, "POST", f"{path}/rollouts/{made['id']}/promote", json={"reason": "go"})
    got_out, got_us, got_anon = await asyncio.gather(frames(ws_out), frames(ws_us), frames(ws_anon))
    assert [(f["op"], f["configuration"]["config"], f["rollout"]) for f in got_out] == [
        ("updated", {"limit": 2}, {"id": made["id"], "step": 1})]  # fmt: skip
    assert got_us == []
    assert got_anon == []
    assert await frames(ws_in, 0.5) == [], "it had the candidate already"
    # One rejection aborts it; every targeted client gets the base back within a second.
    await ws_in.send_json(
        {
            "type": "ack",
            "application_id": app["id"],
            "revision": 0,
            "results": [
                {
                    "configuration_id": cfg["id"],
                    "version": 2,
                    "status": "rejected",
                    "reason": "limit too high",
                }
            ],
        }
    )
    sent = time.monotonic()
    for ws in (ws_in, ws_out):
        back = await ws.receive_json(timeout=PATIENCE)
        assert (back["op"], back["configuration"]["config"]) == ("updated", {"limit": 1})
        assert time.monotonic() - sent < 1.0
    seen = await make(client, "GET", f"{path}/rollouts/{made['id']}")
    assert seen["state"] == "aborted"
    assert inside in seen["ended_reason"]
    assert seen["rejections"][0]["client_id"] == inside
    assert seen["rejections"][0]["reason"] == "limit too high"
    assert (await make(client, "GET", path))["version"] == 1
    for ws in (ws_in, ws_out, ws_us, ws_anon):
        await ws.close()


async def test_a_reconnecting_client_keeps_its_place(client) -> None:
    app, cfg = await setup(client)
    ws, snap = await hello(client, app["id"], "anyone")
    await ws.close()
    made = await start(client, cfg)
    inside, outside = in_and_out(made["id"], 50)
    for who, want in ((inside, {"limit": 2}), (outside, None)):
        ws, synced = await hello(client, app["id"], who, since=snap["revision"])
        got = [synced, *await frames(ws, 0.5)]
        changes_ = [f["configuration"]["config"] for f in got if f["type"] == "change"]
        assert changes_ == ([want] if want else []), who
        assert got[-1]["type"] == "synced"
        await ws.close()
        ws, fresh = await hello(client, app["id"], who)
        assert fresh["configurations"][0]["config"] == (want or {"limit": 1})
        await ws.close()


async def test_a_walk_through_rollouts_and_their_errors_matches_the_document(call, client) -> None:  # noqa: F811
    app = await call("POST", "/api/v1/applications", json={"name": "billing"})
    cfg = await call("POST", "/api/v1/configurations",
                     json={"application_id": app["id"], "name": "prod", "config": {}})  # fmt: skip
    many, one = f"{API}/configurations/{{id}}/rollouts", f"{API}/configurations/{{id}}/rollouts/"
    etag = {"If-Match": '"1"'}
    await call("POST", many, cfg["id"], json=body(), headers=etag, params={"dry_run": "true"})
    made = await call("POST", many, cfg["id"], json=body(), headers=etag)
    await call("POST", many, cfg["id"], json=body(), headers=etag)  # 409
    await call("POST", many, cfg["id"], json=body(), headers={"If-Match": '"7"'})  # 412
    await call("POST", many, cfg["id"], json={})  # 422
    await call("POST", many, cfg["id"], data="{", headers={"Content-Type": "application/json"})
    await call("POST", many, cfg["id"], data="x", headers={"Content-Type": "text/plain"})
    await call(
        "POST", many, cfg["id"], data=b" " * (2**21), headers={"Content-Type": "application/json"}
    )
    await call("POST", many, "0" * 26, json=body(), headers=etag)  # 404
    await call("GET", many, cfg["id"], params={"limit": "1"})
    await call("GET", many, cfg["id"], params={"cursor": "zz"})
    await call("GET", many, "0" * 26)
    tmpl_one = f"{one}{{rollout_id}}"
    ops = (tmpl_one, f"{tmpl_one}/promote", f"{tmpl_one}/abort")

    async def at(method: str, template: str, rollout_id: str, **kw: Any) -> Any:
        path = template.replace("{id}", cfg["id"]).replace("{rollout_id}", rollout_id)
        return await call.contract.check(method, template, await client.request(method, path, **kw))

    await at("GET", ops[0], made["id"])
    await at("GET", ops[0], "0" * 26)
    for template in ops[1:]:
        await at("POST", template, "0" * 26, json={"reason": "r"})
        await at("POST", template, made["id"], json={})
        await at(
            "POST", template, made["id"], data="{", headers={"Content-Type": "application/json"}
        )
        await at("POST", template, made["id"], data="x", headers={"Content-Type": "text/plain"})
        await at("POST", template, made["id"], data=b" " * (2**21),
                 headers={"Content-Type": "application/json"})  # fmt: skip
    await at("POST", ops[1], made["id"], json={"reason": "next"})
    await at("POST", ops[2], made["id"], json={"reason": "stop"})
    await at("POST", ops[1], made["id"], json={"reason": "again"})  # 409
    await at("POST", ops[2], made["id"], json={"reason": "again"})
    grant = [{"application_id": app["id"], "access": "read"}]
    reader = await call("POST", f"{API}/tokens", json={"name": "reader", "grants": grant})
    bad = {"Authorization": "Bearer nope"}
    read_only = {"Authorization": f"Bearer {reader['token']}", **etag}
    await call("POST", many, cfg["id"], json=body(), headers=bad)
    await call("POST", many, cfg["id"], json=body(), headers=read_only)
    await call("GET", many, cfg["id"], headers=bad)
    for method, template in (("GET", ops[0]), ("POST", ops[1]), ("POST", ops[2])):
        await at(method, template, made["id"], json={"reason": "r"}, headers=bad)
        if method == "POST":
            await at(method, template, made["id"], json={"reason": "r"}, headers=read_only)
    assert every_status(call.contract.doc, "rollouts") - call.contract.seen == set()


async def _rest(http: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    async with http.request(method, url, **kw) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def _until_promoted(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with asyncio.timeout(PATIENCE * 2):
        while True:
            try:
                seen: dict[str, Any] = await _rest(http, "GET", url)
            except aiohttp.ClientError:
                seen = {"state": "unreachable"}
            if seen["state"] not in ("running", "unreachable"):
                return seen
            await asyncio.sleep(0.3)


async def _started(http: aiohttp.ClientSession, base: str, name: str) -> tuple[str, str]:
    app = await _rest(http, "POST", f"{base}{API}/applications", json={"name": name})
    cfg = await _rest(
        http,
        "POST",
        f"{base}{API}/configurations",
        json={"application_id": app["id"], "name": "prod", "config": {"n": 1}},
    )
    steps = [{"percent": 10, "hold_s": 2}, {"percent": 100, "hold_s": 2}]
    made = await _rest(
        http,
        "POST",
        f"{base}{API}/configurations/{cfg['id']}/rollouts",
        json=body(steps=steps, config={"n": 2}),
        headers={"If-Match": '"1"'},
    )
    return cfg["id"], made["id"]


async def test_a_rollout_survives_a_killed_worker_and_a_restart(
    service_factory, admin_headers
) -> None:
    import os
    import signal

    service = service_factory(workers=2)
    async with aiohttp.ClientSession(headers=admin_headers) as http:
        # A worker killed outright: the other one (or its replacement) advances the rollout.
        config_id, rollout_id = await _started(http, service.url, "killed")
        os.kill(service.worker_pids()[0], signal.SIGKILL)
        url = f"{service.url}{API}/configurations/{config_id}/rollouts/{rollout_id}"
        assert (await _until_promoted(http, url))["state"] == "promoted"
        got = await _rest(http, "GET", f"{service.url}{API}/configurations/{config_id}")
        assert (got["config"], got["version"]) == ({"n": 2}, 2)
        # The whole service stopped mid-rollout and started again: the timers resume.
        config_id, rollout_id = await _started(http, service.url, "restarted")
        service.stop()
        service.start()
        url = f"{service.url}{API}/configurations/{config_id}/rollouts/{rollout_id}"
        assert (await _until_promoted(http, url))["state"] == "promoted"


async def test_a_rest_read_naming_a_targeted_client_gets_the_candidate(client) -> None:
    app, cfg = await setup(client)
    made = await start(client, cfg, labels={"region": "eu"})
    inside, outside = in_and_out(made["id"], 50)
    sockets = [
        (await hello(client, app["id"], who, {"region": "eu"}))[0] for who in (inside, outside)
    ]
    path = f"/configurations/{cfg['id']}"
    # The fleet tables learn a hello within about a second (live/clients.py).
    async with asyncio.timeout(PATIENCE):
        while (seen := await make(client, "GET", path, params={"client_id": inside}))["config"] != {
            "limit": 2
        }:
            await asyncio.sleep(0.2)
    assert seen["version"] == 2, "the version the promotion will give it, as its feed says"
    for who in (outside, "never-connected"):
        base = await make(client, "GET", path, params={"client_id": who})
        assert (base["config"], base["version"]) == ({"limit": 1}, 1), who
    assert (await make(client, "GET", path))["config"] == {"limit": 1}
    bad = await refusal(client, "GET", path, 422, params={"client_id": "x" * 129})
    assert bad["errors"][0]["field"] == "client_id"
    for ws in sockets:
        await ws.close()


async def test_a_rollback_of_the_configuration_waits_and_one_of_the_application_cancels(
    client,
) -> None:
    app, cfg = await setup(client)
    made = await start(client, cfg, steps=[{"percent": 100, "hold_s": 3600}])
    ws, snap = await hello(client, app["id"], "anyone")
    assert snap["configurations"][0]["config"] == {"limit": 2}
    path = f"/configurations/{cfg['id']}"
    refused = await refusal(client, "POST", f"{path}/rollback", 409, json={"to_version": 1})
    assert made["id"] in refused["detail"]
    # Rolling the whole application back outranks the rollout: it ends, and the client holding
    # the candidate gets the rolled-back version, equal as it is to the base.
    back = await make(client, "POST", f"/applications/{app['id']}/rollback",
                      json={"to_revision": snap["revision"]})  # fmt: skip
    got = await frames(ws, 1.0)
    changes_ = [f for f in got if f["type"] == "change"]
    assert [f["op"] for f in changes_] == ["rolled_back"]
    assert [c["config"] for c in changes_[0]["configurations"]] == [{"limit": 1}]
    seen = await make(client, "GET", f"{path}/rollouts/{made['id']}")
    assert seen["state"] == "cancelled"
    assert str(snap["revision"]) in seen["ended_reason"]
    trail = await make(client, "GET", "/audit", params={"application_id": app["id"]})
    cancels = [e for e in trail["items"] if e["action"] == "rollout.cancel"]
    assert [(e["target"]["id"], e["revision"]) for e in cancels] == [(made["id"], back["revision"])]
    await make(client, "PUT", path, json={"name": "prod", "config": {"limit": 3}})
    await ws.close()


async def test_a_dry_run_says_how_many_connected_clients_step_one_reaches_and_writes_nothing(
    client,
) -> None:
    app, cfg = await setup(client)
    sockets = [(await hello(client, app["id"], f"c{i}", {"region": "eu"}))[0] for i in range(3)]
    sockets.append((await hello(client, app["id"], "c9", {"region": "us"}))[0])
    path = f"/configurations/{cfg['id']}/rollouts"
    steps = [{"percent": 100, "hold_s": 60}]
    etag = {"If-Match": '"1"'}
    async with asyncio.timeout(PATIENCE):  # the fleet tables learn hellos within about a second
        while True:
            answer = await make(client, "POST", path, params={"dry_run": "true"}, headers=etag,
                                json=body(steps=steps, labels={"region": "eu"}))  # fmt: skip
            if answer["reach"] == 3:
                break
            await asyncio.sleep(0.2)
    assert (answer["valid"], answer["status"]) == (True, 201)
    assert (await make(client, "GET", path))["items"] == [], "nothing was started"
    other = await make(client, "POST", path, params={"dry_run": "true"}, headers=etag,
                       json=body(config={"limit": "x"}, steps=steps))  # fmt: skip
    assert other["patch"] == [{"op": "replace", "path": "/limit", "value": "x"}]
    assert other["would_be_version"] == 2
    steps_wrong = body(steps=[{"percent": 50}, {"percent": 40}])
    bad = await refusal(client, "POST", path, 422, params={"dry_run": "true"}, headers=etag,
                        json=steps_wrong)  # fmt: skip
    assert [e["field"] for e in bad["errors"]] == ["steps.1.percent", "steps.1.percent"]
    for ws in sockets:
        await ws.close()
