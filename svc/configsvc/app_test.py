from __future__ import annotations

import aiohttp


async def test_two_worker_processes_serve_one_port(service_factory) -> None:
    service = service_factory(workers=2)
    assert len(service.worker_pids()) == 2
    async with aiohttp.ClientSession() as session, session.get(f"{service.url}/readyz") as resp:
        assert resp.status == 200
