"""Revisions follow commit order, have no gaps, and old entries are pruned."""

from __future__ import annotations

import asyncio
import json
import random

import asyncpg

from configsvc.service import application_writes, configuration_writes, writing
from configsvc.store import changes


async def test_revisions_follow_commit_order_under_many_concurrent_writers(
    database_url, pooled
) -> None:
    reader = await asyncpg.connect(database_url)
    done = asyncio.Event()
    violations: list[tuple[int, int]] = []

    async def write(i: int) -> None:
        app = await application_writes.create_application(pooled, writing.Write(), f"app-{i}", "")
        for n in range(25):
            fields = {"name": f"c{n}", "comments": "", "config": {"n": n}}
            await configuration_writes.create_configuration(
                pooled, writing.Write(), app["id"], fields
            )
            await asyncio.sleep(random.random() / 1000)

    async def watch() -> None:
        seen: set[int] = set()
        high = 0
        while not done.is_set():
            now = {r["revision"] for r in await reader.fetch("SELECT revision FROM changes")}
            new = now - seen
            if new and min(new) < high:
                violations.append((min(new), high))  # committed after a higher one was seen
            seen |= now
            high = max(seen, default=0)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(write(i) for i in range(20)))
    done.set()
    await watcher
    revisions = [r["revision"] for r in await reader.fetch("SELECT revision FROM changes")]
    assert violations == []
    assert sorted(revisions) == list(range(1, 20 * 26 + 1)), "one revision per change, no gaps"
    await reader.close()


async def test_a_failed_write_leaves_no_gap(client, db) -> None:
    await client.post("/api/v1/applications", json={"name": "dup"})
    assert (await client.post("/api/v1/applications", json={"name": "dup"})).status == 409
    await client.post("/api/v1/applications", json={"name": "next"})
    assert [r["revision"] for r in await db.fetch("SELECT revision FROM changes")] == [1, 2]


async def test_every_write_is_logged_with_the_resource_as_the_api_showed_it(client, db) -> None:
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"k": [1, "two"]}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    entries = await changes.after(db, 0)
    assert [(e.revision, e.op, e.application_id) for e in entries] == [
        (app["revision"], "application_created", app["id"]),
        (cfg["revision"], "created", app["id"]),
    ]
    assert json.loads(entries[1].resource) == cfg


async def test_prune_removes_old_entries_and_remembers_how_far(db, client) -> None:
    for name in "abc":
        await client.post("/api/v1/applications", json={"name": name})
    assert await changes.prune(db, 3600) is None, "nothing is an hour old"
    assert await changes.counter(db) == (3, 0)
    await db.execute(
        "UPDATE changes SET committed_at = now() - interval '8 days' WHERE revision < 3"
    )
    assert await changes.prune(db, 7 * 86400) == 2
    assert await changes.counter(db) == (3, 2)
    assert [e.revision for e in await changes.after(db, 0)] == [3]


async def test_the_notification_is_a_small_wake_up_not_the_configuration(client, database_url):
    import asyncpg

    heard: asyncio.Queue[str] = asyncio.Queue()
    conn = await asyncpg.connect(database_url)
    await conn.add_listener(changes.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    app = await (await client.post("/api/v1/applications", json={"name": "a"})).json()
    body = {"application_id": app["id"], "name": "c", "config": {"secret": "x" * 10_000}}
    cfg = await (await client.post("/api/v1/configurations", json=body)).json()
    payloads = [json.loads(await asyncio.wait_for(heard.get(), 5)) for _ in range(2)]
    # One per commit (which may hold many writes): the newest revision; the log says the rest.
    assert payloads == [{"revision": app["revision"]}, {"revision": cfg["revision"]}]
    await conn.close()
