"""The way in: a write refused before the write path leaves one audit entry, with who sent it."""

from __future__ import annotations

from configsvc.api import gate

API = "/api/v1"


async def test_a_write_refused_before_the_write_path_is_audited_once_with_its_sender(
    client, db
) -> None:
    before = await db.fetchval("SELECT count(*) FROM applications")
    agent = "a" * (gate.USER_AGENT_MAX + 100)
    resp = await client.post(f"{API}/applications", data=b"{not json",
                             headers={"Content-Type": "application/json",
                                      "User-Agent": agent})  # fmt: skip
    assert resp.status == 400
    rows = await db.fetch(
        "SELECT action, outcome, actor_name, user_agent, request_id FROM audit"
        " WHERE action LIKE 'POST %'"
    )
    assert [(r["action"], r["outcome"], r["actor_name"]) for r in rows] == [
        ("POST /api/v1/applications", "invalid", "bootstrap")
    ]
    assert rows[0]["user_agent"] == agent[: gate.USER_AGENT_MAX], "bounded, not refused"
    assert rows[0]["request_id"] == resp.headers["X-Request-Id"]
    assert await db.fetchval("SELECT count(*) FROM applications") == before


async def test_reads_and_dry_runs_are_never_audited(client, db) -> None:
    before = await db.fetchval("SELECT count(*) FROM audit")
    assert (await client.get(f"{API}/applications/{'0' * 26}")).status == 404
    dry = await client.post(f"{API}/applications?dry_run=true", json={"name": " padded"})
    assert dry.status == 422
    assert await db.fetchval("SELECT count(*) FROM audit") == before
