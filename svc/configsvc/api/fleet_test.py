"""The fleet view and /metrics on two real worker processes, with real clients on both."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from typing import Any

import aiohttp
from configsvc_client import api as client_api
from prometheus_client.parser import text_string_to_metric_families

PATIENCE = 30.0


async def _until(check: Callable[[], Any], what: str) -> Any:
    """Poll ``check`` (an async function) until it returns something truthy."""
    async with asyncio.timeout(PATIENCE):
        while not (result := await check()):
            await asyncio.sleep(0.2)
    assert result, what
    return result


class Fleet:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url

    async def json(self, method: str, path: str, **kw: Any) -> Any:
        async with self.http.request(method, self.url + path, **kw) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()

    async def clients(self, app_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (
            await self.json("GET", f"/api/v1/applications/{app_id}/clients")
        )["items"]
        return items

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        async with self.http.get(f"{self.url}/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:  # fmt: skip
    return sum(
        value for (n, lbl), value in samples.items()
        if n == name and labels.items() <= dict(lbl).items()
    )  # fmt: skip


async def raw_client(http: aiohttp.ClientSession, url: str, number: int, app_id: str) -> tuple[
        aiohttp.ClientWebSocketResponse, dict[str, Any]]:  # fmt: skip
    ws = await http.ws_connect(f"{url}/api/v1/ws")
    labels = {"service": "raw", "n": str(number)}
    hello = {"type": "hello", "client_id": f"raw-{number}", "labels": labels, "sdk": "test/1"}
    await ws.send_json(hello)
    await ws.send_json({"type": "subscribe", "application_id": app_id})
    snapshot = await ws.receive_json(timeout=10)
    assert snapshot["type"] == "snapshot"
    return ws, snapshot


async def test_the_fleet_view_and_metrics_across_two_workers(
    service_factory, admin_headers, token_env
) -> None:
    service = service_factory(workers=2, metrics_public="true", clients_keep_s="2")
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession(headers=admin_headers))
        fleet = Fleet(http, service.url)
        app = await fleet.json("POST", "/api/v1/applications", json={"name": "billing"})
        body = {"application_id": app["id"], "name": "limits", "config": {"ok": True}}
        cfg = await fleet.json("POST", "/api/v1/configurations", json=body)
        other = await fleet.json("POST", "/api/v1/configurations",
                                 json={**body, "name": "other"})  # fmt: skip
        before = await fleet.metrics()

        # Raw clients, connecting at once so that the kernel spreads them over both workers;
        # each acks its snapshot as applied.
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        workers: set[str] = set()
        while len(workers) < 2:
            assert len(sockets) < 30, "every socket landed on one worker"
            opened = await asyncio.gather(
                *(raw_client(http, service.url, len(sockets) + i, app["id"]) for i in range(6))
            )
            for ws, snap in opened:
                stack.push_async_callback(ws.close)
                sockets.append(ws)
                await ws.send_json({"type": "ack", "application_id": app["id"],
                                    "revision": snap["revision"], "results": [
                    {"configuration_id": c["id"], "version": c["version"], "status": "applied"}
                    for c in snap["configurations"]]})  # fmt: skip
            listed = await _until(lambda: _listed(fleet, app["id"], len(sockets)), "all listed")
            workers = {c["worker"] for c in listed}
        # The real Python client, whose validator refuses a config without "ok".
        rest = client_api.ConfigClient(service.url, labels={"service": "py", "version": "9"})
        await stack.enter_async_context(rest)
        live = await stack.enter_async_context(
            rest.watch(app["id"], validate=lambda name, config: bool(config.get("ok")))
        )

        put = {"name": "limits", "config": {"ok": False}}
        updated = await fleet.json("PUT", f"/api/v1/configurations/{cfg['id']}", json=put)
        for ws in sockets:
            change = await ws.receive_json(timeout=10)
            assert change["revision"] == updated["revision"]
        # Socket 0 applies version 2, socket 1 refuses it, the rest never say.
        for ws, status in ((sockets[0], "applied"), (sockets[1], "rejected")):
            result = {"configuration_id": cfg["id"], "version": 2, "status": status}
            if status == "rejected":
                result["reason"] = "limit too low"
            await ws.send_json({"type": "ack", "application_id": app["id"],
                                "revision": updated["revision"], "results": [result]})  # fmt: skip
        await _until(lambda: _settled(fleet, app["id"], len(sockets) + 1, updated["revision"]),
                     "every ack reported")  # fmt: skip
        assert live["limits"] == {"ok": True}, "the client kept the last good config"

        items = {c["client_id"]: c for c in await fleet.clients(app["id"])}
        assert {c["worker"] for c in items.values()} == workers, "both workers' clients listed"
        py = next(c for c in items.values() if c["labels"].get("service") == "py")
        assert py["labels"]["version"] == "9"
        assert py["sdk"].startswith("configsvc-client/")
        assert py["applied_revision"] == updated["revision"]
        assert py["delivered_revision"] == updated["revision"]
        assert py["lag"] == 0
        assert [(r["configuration_id"], r["version"]) for r in py["rejections"]] == [(cfg["id"], 2)]
        assert "validator returned False" in py["rejections"][0]["reason"]
        assert items["raw-0"]["applied_revision"] == updated["revision"]
        assert items["raw-0"]["rejections"] == []
        assert items["raw-1"]["rejections"][0]["reason"] == "limit too low"
        assert items["raw-2"]["applied_revision"] == other["revision"]
        assert items["raw-2"]["lag"] == updated["revision"] - other["revision"]
        assert items["raw-2"]["labels"] == {"service": "raw", "n": "2"}
        assert all(c["connected"] and "disconnected_at" not in c for c in items.values())

        summary = await fleet.json("GET", f"/api/v1/configurations/{cfg['id']}/clients/summary")
        n = len(sockets)
        assert summary == {"versions": {"2": 1, "1": n}, "rejected": {"2": 2}, "unknown": 0}

        after = await fleet.metrics()
        route = "/api/v1/applications/{id}/clients"
        assert total(after, "configsvc_http_requests_total", route=route, status="200") > total(
            before, "configsvc_http_requests_total", route=route, status="200")  # fmt: skip
        assert total(after, "configsvc_http_requests_total", method="PUT",
                     route="/api/v1/configurations/{id}", status="200") == 1  # fmt: skip
        assert total(after, "configsvc_ws_connections") == n + 1
        assert total(after, "configsvc_ws_subscriptions") == n + 1
        assert total(after, "configsvc_client_acks_total", status="rejected") == 2
        assert total(after, "configsvc_client_acks_total", status="applied") >= 2 * n + 1
        assert total(after, "configsvc_ws_frames_sent_total") >= 2 * (n + 1)
        assert total(after, "configsvc_feed_propagation_seconds_count") >= 2
        dispatched = [v for (name, _), v in after.items()
                      if name == "configsvc_feed_dispatched_revision"]  # fmt: skip
        assert dispatched == [updated["revision"]] * 2, "each worker, none behind"
        assert total(after, "configsvc_feed_head_revision") == updated["revision"]
        assert total(after, "configsvc_db_pool_size") >= 2
        values = {v for (_, lbl) in after for _, v in lbl}
        assert not values & {app["id"], cfg["id"], "raw-0", "/api/v1/ws?"}, "no ids as labels"

        # A client that leaves is marked, then dropped after CLIENTS_KEEP_S.
        await sockets[0].close()
        gone = await _until(lambda: _disconnected(fleet, app["id"], "raw-0"), "marked")
        assert gone["disconnected_at"] >= gone["connected_at"]
        await _until(lambda: _dropped(fleet, app["id"], "raw-0"), "dropped")

        # A worker killed outright says nothing: its clients go when its heartbeat stops
        # (shown as gone from its last stamp, so with CLIENTS_KEEP_S=2 not shown at all).
        victim = items["raw-1"]["worker"]
        os.kill(int(victim.rsplit(":", 1)[1]), signal.SIGKILL)
        alive = await _until(lambda: _without(fleet, app["id"], victim), "expired")
        assert all(c["connected"] for c in alive), "the other worker's clients stay"
        left = sum(1 for c in alive if c["client_id"] != "raw-0")
        assert total(await fleet.metrics(), "configsvc_ws_connections") == left


async def _listed(fleet: Fleet, app_id: str, count: int) -> list[dict[str, Any]] | None:
    items = await fleet.clients(app_id)
    return items if len(items) == count and all(c["applied_revision"] for c in items) else None


async def _settled(fleet: Fleet, app_id: str, count: int, revision: int) -> bool:
    items = await fleet.clients(app_id)
    rejected = [c for c in items if c["rejections"]]
    py = [c for c in items if c["labels"].get("service") == "py"]
    return (len(items) == count and len(rejected) == 2 and bool(py)
            and py[0]["applied_revision"] == revision)  # fmt: skip


async def _disconnected(fleet: Fleet, app_id: str, client_id: str) -> dict[str, Any] | None:
    items = [c for c in await fleet.clients(app_id) if c["client_id"] == client_id]
    return items[0] if items and not items[0]["connected"] else None


async def _without(fleet: Fleet, app_id: str, worker: str) -> list[dict[str, Any]] | None:
    items = await fleet.clients(app_id)
    live = [c for c in items if c["connected"]]
    return live if all(c["worker"] != worker for c in live) else None


async def _dropped(fleet: Fleet, app_id: str, client_id: str) -> bool:
    return all(c["client_id"] != client_id for c in await fleet.clients(app_id))
