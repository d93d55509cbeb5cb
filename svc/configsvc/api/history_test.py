"""History, diff, rollback and audit through the real server, socket and database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import jsonpatch
from aiohttp.test_utils import TestClient

from configsvc.api.conftest import API, make, refusal

NOBODY = "0" * 26


async def app_and_config(client: TestClient, config: dict[str, Any]) -> tuple[Any, Any]:  # type: ignore[type-arg]
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = {"application_id": app["id"], "name": "prod", "config": config}
    return app, await make(client, "POST", "/configurations", json=body)


async def test_versions_and_diffs_across_create_update_delete_restore(client) -> None:
    app, cfg = await app_and_config(client, {"pool": 10, "tags": ["a"]})
    path = f"/configurations/{cfg['id']}"
    why = {"X-Change-Reason": "bigger pool for the sale", "X-Request-Id": "ticket-42"}
    body = {"name": "prod", "comments": "sale", "config": {"pool": 20, "tags": ["a", "b"]}}
    await make(client, "PUT", path, json=body, headers=why)
    await make(client, "PUT", path, json={"name": "production", "config": {"pool": 5}})
    await make(client, "DELETE", path)
    restored = await make(client, "POST", f"{path}/rollback", json={"to_version": 2})
    assert (restored["id"], restored["version"], restored["config"]) == (
        cfg["id"],
        5,
        body["config"],
    )

    listed = await make(client, "GET", f"{path}/versions")
    assert [(v["version"], v["op"]) for v in listed["items"]] == [
        (5, "restored"), (4, "deleted"), (3, "updated"), (2, "updated"), (1, "created")
    ]  # fmt: skip
    second = listed["items"][3]
    assert (second["reason"], second["request_id"], second["actor"]["name"]) == (
        "bigger pool for the sale", "ticket-42", "bootstrap"
    )  # fmt: skip
    assert listed["items"][1]["config"] == {"pool": 5}, "a deletion shows what was deleted"
    assert await make(client, "GET", f"{path}/versions/2") == {
        **second, "configuration_id": cfg["id"], "application_id": app["id"]
    }  # fmt: skip

    diff = await make(client, "GET", f"{path}/diff", params={"from": "1", "to": "3"})
    assert jsonpatch.apply_patch(cfg["config"], diff["patch"]) == {"pool": 5}
    assert diff["name"] == {"from": "prod", "to": "production"}
    assert diff["comments"] is None
    assert (await make(client, "GET", f"{path}/diff", params={"from": "2", "to": "2"}))[
        "patch"
    ] == []

    first = await make(client, "GET", f"{path}/versions", params={"limit": "2"})
    rest = await make(client, "GET", f"{path}/versions", params={"cursor": first["next_cursor"]})
    assert [v["version"] for v in first["items"] + rest["items"]] == [5, 4, 3, 2, 1]
    assert rest["next_cursor"] is None


async def test_a_deleted_configuration_keeps_its_history_and_unknown_ids_are_404(client) -> None:
    _, cfg = await app_and_config(client, {"a": 1})
    await make(client, "DELETE", f"/configurations/{cfg['id']}")
    listed = await make(client, "GET", f"/configurations/{cfg['id']}/versions")
    assert [v["op"] for v in listed["items"]] == ["deleted", "created"]
    await refusal(client, "GET", f"/configurations/{NOBODY}/versions", 404)
    await refusal(client, "GET", f"/configurations/{cfg['id']}/versions/9", 404)
    await refusal(client, "GET", f"/configurations/{cfg['id']}/versions/x", 404)
    bad = await refusal(
        client, "GET", f"/configurations/{cfg['id']}/diff", 422, params={"from": "1"}
    )
    assert bad["errors"][0]["field"] == "to"
    bad = await refusal(client, "GET", f"/configurations/{cfg['id']}/versions", 422,
                        params={"cursor": "!!"})  # fmt: skip
    assert bad["errors"][0]["field"] == "cursor"


async def test_a_pruned_version_is_gone(client, db: asyncpg.Connection) -> None:
    _, cfg = await app_and_config(client, {"a": 1})
    path = f"/configurations/{cfg['id']}"
    await make(client, "PUT", path, json={"name": "prod", "config": {"a": 2}})
    await db.execute("DELETE FROM configuration_versions WHERE version = 1")  # as pruning does
    gone = await refusal(client, "GET", f"{path}/versions/1", 410)
    assert gone["type"] == "urn:configsvc:problem:gone"
    await refusal(client, "GET", f"{path}/diff", 410, params={"from": "1", "to": "2"})
    await refusal(client, "POST", f"{path}/rollback", 410, json={"to_version": 1})


async def test_application_versions(client) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    await make(client, "PUT", f"/applications/{app['id']}", json={"name": "invoicing"})
    listed = await make(client, "GET", f"/applications/{app['id']}/versions")
    assert [(v["version"], v["op"], v["name"]) for v in listed["items"]] == [
        (2, "updated", "invoicing"), (1, "created", "billing")
    ]  # fmt: skip
    await make(client, "DELETE", f"/applications/{app['id']}")
    listed = await make(client, "GET", f"/applications/{app['id']}/versions")
    assert listed["items"][0]["op"] == "deleted"
    await refusal(client, "GET", f"/applications/{NOBODY}/versions", 404)


async def test_every_response_carries_a_request_id(client) -> None:
    mine = await client.get(f"{API}/applications", headers={"X-Request-Id": "abc.DEF_1-2"})
    assert mine.headers["X-Request-Id"] == "abc.DEF_1-2"
    for sent in ("", "has space", "x" * 129, "ünï"):
        resp = await client.get(f"{API}/applications/{NOBODY}", headers={"X-Request-Id": sent})
        assert resp.status == 404
        assert len(resp.headers["X-Request-Id"]) == 26, "malformed: replaced by a new ULID"
    one, two = await client.get("/healthz"), await client.get("/healthz")
    assert one.headers["X-Request-Id"] != two.headers["X-Request-Id"]


async def test_a_bad_reason_is_a_422_naming_the_header_and_changes_nothing(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    path = f"/applications/{app['id']}"
    bad = await refusal(client, "PUT", path, 422, json={"name": "x"},
                        headers={"X-Change-Reason": "r" * 1025})  # fmt: skip
    assert bad["errors"][0]["field"] == "X-Change-Reason"
    assert (await make(client, "GET", path))["name"] == "billing"
    ok = await make(
        client, "PUT", path, json={"name": "x"}, headers={"X-Change-Reason": "r" * 1024}
    )
    assert ok["version"] == 2
    assert (
        await db.fetchval("SELECT reason FROM changes WHERE revision = $1", ok["revision"])
        == "r" * 1024
    )


async def test_configuration_rollback_refusals(client, db) -> None:
    app, cfg = await app_and_config(client, {"a": 1})
    path = f"/configurations/{cfg['id']}"
    await make(client, "PUT", path, json={"name": "renamed", "config": {"a": 2}})
    other = {"application_id": app["id"], "name": "prod", "config": {}}
    await make(client, "POST", "/configurations", json=other)
    taken = await refusal(client, "POST", f"{path}/rollback", 409, json={"to_version": 1})
    assert taken["errors"][0]["field"] == "name"
    await refusal(client, "POST", f"{path}/rollback", 412, json={"to_version": 2},
                  headers={"If-Match": '"1"'})  # fmt: skip
    await refusal(client, "POST", f"{API}/configurations/{NOBODY}/rollback".removeprefix(API), 404,
                  json={"to_version": 1})  # fmt: skip
    bad = await refusal(client, "POST", f"{path}/rollback", 422, json={"to_version": 0})
    assert bad["errors"][0]["field"] == "to_version"
    assert (await make(client, "GET", path))["version"] == 2, "nothing changed"
    same = await make(client, "POST", f"{path}/rollback", json={"to_version": 2},
                      headers={"If-Match": '"2"'})  # fmt: skip
    assert (same["version"], same["config"]) == (3, {"a": 2})


async def test_a_configuration_of_a_deleted_application_cannot_be_restored(client) -> None:
    app, cfg = await app_and_config(client, {"a": 1})
    await make(client, "DELETE", f"/applications/{app['id']}")
    listed = await make(client, "GET", f"/configurations/{cfg['id']}/versions")
    assert [v["op"] for v in listed["items"]] == ["deleted", "created"], "deleted with its app"
    bad = await refusal(client, "POST", f"/configurations/{cfg['id']}/rollback", 422,
                        json={"to_version": 1})  # fmt: skip
    assert bad["errors"][0]["field"] == "application_id"


async def state(db: asyncpg.Connection, app_id: str) -> dict[str, tuple[str, str, Any]]:
    rows = await db.fetch("SELECT * FROM configurations WHERE application_id = $1", app_id)
    return {r["id"]: (r["name"], r["comments"], json.loads(r["config"])) for r in rows}


async def test_an_application_rolls_back_to_a_revision_in_one_revision(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    new = {"application_id": app["id"], "comments": ""}
    a = await make(client, "POST", "/configurations", json={**new, "name": "a", "config": {"v": 1}})
    b = await make(client, "POST", "/configurations", json={**new, "name": "b", "config": {"v": 1}})
    gone = await make(client, "POST", "/configurations", json={**new, "name": "c", "config": {}})
    then = await state(db, app["id"])
    at = gone["revision"]
    # After R: names swap, one is deleted, one is created.
    await make(
        client, "PUT", f"/configurations/{a['id']}", json={"name": "tmp", "config": {"v": 2}}
    )
    await make(client, "PUT", f"/configurations/{b['id']}", json={"name": "a", "config": {"v": 2}})
    await make(client, "PUT", f"/configurations/{a['id']}", json={"name": "b", "config": {"v": 3}})
    await make(client, "DELETE", f"/configurations/{gone['id']}")
    later = await make(client, "POST", "/configurations", json={**new, "name": "d", "config": {}})
    past = await make(client, "GET", f"/applications/{app['id']}/configurations",
                      params={"at_revision": str(at)})  # fmt: skip
    assert {c["id"]: (c["name"], c["comments"], c["config"]) for c in past["items"]} == then
    head = await db.fetchval("SELECT revision FROM revision_counter")

    why = {"X-Change-Reason": "bad deploy"}
    done = await make(client, "POST", f"/applications/{app['id']}/rollback",
                      json={"to_revision": at}, headers=why)  # fmt: skip
    assert done["revision"] == head + 1, "one revision for the whole rollback"
    assert done["deleted"] == [later["id"]]
    assert await state(db, app["id"]) == then
    entries = await db.fetch("SELECT op, reason FROM changes WHERE revision > $1", head)
    assert [(e["op"], e["reason"]) for e in entries] == [("rolled_back", "bad deploy")]
    restored = await make(client, "GET", f"/configurations/{gone['id']}/versions")
    assert [v["op"] for v in restored["items"]][:2] == ["restored", "deleted"]


async def test_at_revision_and_application_rollback_refuse_unknown_revisions(client, db) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    path = f"/applications/{app['id']}"
    for value in ("99", "-1", "x"):
        bad = await refusal(client, "GET", f"{path}/configurations", 422,
                            params={"at_revision": value})  # fmt: skip
        assert bad["errors"][0]["field"] == "at_revision"
    bad = await refusal(client, "POST", f"{path}/rollback", 422, json={"to_revision": 99})
    assert bad["errors"][0]["field"] == "to_revision"
    await db.execute("UPDATE revision_counter SET history_from = 1")  # as pruning raises it
    await refusal(client, "GET", f"{path}/configurations", 422, params={"at_revision": "0"})
    await refusal(client, "POST", f"/applications/{NOBODY}/rollback", 404, json={"to_revision": 1})
    await refusal(client, "GET", f"/applications/{NOBODY}/configurations", 404,
                  params={"at_revision": "1"})  # fmt: skip
    rows = await db.fetch("SELECT action, outcome, detail FROM audit WHERE outcome <> 'ok'")
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("application.rollback", "invalid"),
        ("POST /api/v1/applications/{id}/rollback", "invalid"),  # the unknown application
    ]
    assert "to_revision" in rows[0]["detail"]


async def test_a_refused_rollback_writes_nothing_but_its_audit_entry(client, db) -> None:
    _, cfg = await app_and_config(client, {"a": 1})
    path = f"/configurations/{cfg['id']}"
    counts = "SELECT (SELECT count(*) FROM changes), (SELECT count(*) FROM configuration_versions)"
    before = tuple(await db.fetchrow(counts))
    await refusal(client, "POST", f"{path}/rollback", 412, json={"to_version": 1},
                  headers={"If-Match": '"7"', "X-Request-Id": "oops-1",
                           "X-Change-Reason": "try", "User-Agent": "ops-cli/1"})  # fmt: skip
    assert tuple(await db.fetchrow(counts)) == before
    audit = await make(client, "GET", "/audit", params={"outcome": "invalid"})
    [entry] = audit["items"]
    assert entry["action"] == "configuration.rollback"
    assert entry["target"] == {"kind": "configuration", "id": cfg["id"]}
    assert (entry["request_id"], entry["reason"], entry["user_agent"]) == (
        "oops-1",
        "try",
        "ops-cli/1",
    )
    assert entry["revision"] is None
    assert entry["remote_addr"] == "127.0.0.1"


async def test_the_audit_trail_lists_writes_newest_first_with_filters(client) -> None:
    app, cfg = await app_and_config(client, {"a": 1})
    await make(client, "PUT", f"/configurations/{cfg['id']}", json={"name": "p", "config": {}},
               headers={"X-Change-Reason": "why"})  # fmt: skip
    trail = (await make(client, "GET", "/audit"))["items"]
    assert [e["action"] for e in trail] == [
        "configuration.update", "configuration.create", "application.create", "token.bootstrap"
    ]  # fmt: skip
    assert trail[0]["reason"] == "why"
    assert (trail[0]["revision"], trail[0]["outcome"]) == (3, "ok")
    assert trail[0]["application_id"] == app["id"]
    wanted = {"action": "application.create", "application_id": app["id"]}
    only = await make(client, "GET", "/audit", params=wanted)
    assert [e["action"] for e in only["items"]] == ["application.create"]
    page = await make(client, "GET", "/audit", params={"limit": "2"})
    rest = await make(client, "GET", "/audit", params={"cursor": page["next_cursor"]})
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in trail]
    window = {"since": trail[-1]["at"], "until": "2999-01-01T00:00:00Z"}
    assert len((await make(client, "GET", "/audit", params=window))["items"]) == 4
    for name, value in (("outcome", "maybe"), ("action", "x.y"), ("since", "yesterday"),
                        ("until", "2026-01-01T00:00:00"), ("application_id", "nope"),
                        ("since", "0001-01-01T00:00:00+14:00"), ("actor", "a\x00"),
                        ("actor", ""), ("limit", "0"), ("cursor", "??")):  # fmt: skip
        bad = await refusal(client, "GET", "/audit", 422, params={name: value})
        assert bad["errors"][0]["field"] == name


async def raw_request(client: TestClient, head: bytes) -> bytes:  # type: ignore[type-arg]
    """Send bytes no well-behaved client library would (e.g. a header that is not UTF-8)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    return answer


async def test_bytes_that_are_not_utf8_are_refused_or_harmless(client, admin_token) -> None:
    app = await make(client, "POST", "/applications", json={"name": "billing"})
    body = b'{"name": "x"}'
    answer = await raw_request(client, (
        f"PUT {API}/applications/{app['id']} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        f"Authorization: Bearer {admin_token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    ).encode() + b"X-Change-Reason: \xff\xfe\r\n\r\n" + body)  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 422")
    assert b"X-Change-Reason" in answer
    assert (await make(client, "GET", f"/applications/{app['id']}"))["name"] == "billing"
    answer = await raw_request(
        client,
        f"GET {API}/audit?actor=%ff HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {admin_token}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 200"), "undecodable bytes become U+FFFD: no match"


async def test_a_deleted_configuration_whose_name_was_taken_is_a_409(client, db) -> None:
    app, cfg = await app_and_config(client, {"a": 1})
    await make(client, "DELETE", f"/configurations/{cfg['id']}")
    await make(client, "POST", "/configurations",
               json={"application_id": app["id"], "name": "prod", "config": {}})  # fmt: skip
    taken = await refusal(client, "POST", f"/configurations/{cfg['id']}/rollback", 409,
                          json={"to_version": 1})  # fmt: skip
    assert "'prod'" in taken["detail"]
    assert await db.fetchval("SELECT count(*) FROM configurations") == 1


# Numbers PostgreSQL keeps exactly: fractions, exponents, integers beyond 64 bits.
EXACT = {"rate": 0.1, "tiny": 1e-7, "huge": 12345678901234567890123, "big": 1.5e300, "neg": -2.50}


async def test_rollback_dry_run_diff_and_at_revision_keep_fractional_numbers(client, db) -> None:
    app, cfg = await app_and_config(client, EXACT)
    path = f"/configurations/{cfg['id']}"
    await make(client, "PUT", path, json={"name": "prod", "config": {**EXACT, "rate": 0.25}})
    apps = f"/applications/{app['id']}"
    at = cfg["revision"]
    past = await client.get(f"{API}{apps}/configurations", params={"at_revision": str(at)})
    assert past.status == 200, await past.text()
    assert '"rate":0.1,' in await past.text()
    diff = await client.get(f"{API}{path}/diff", params={"from": "1", "to": "2"})
    assert diff.status == 200, await diff.text()
    assert '"value":0.25' in await diff.text()
    dry = await client.post(f"{API}{apps}/rollback", params={"dry_run": "true"},
                            json={"to_revision": at})  # fmt: skip
    assert dry.status == 200, await dry.text()
    assert '"value":0.1}' in await dry.text()
    done = await client.post(f"{API}{apps}/rollback", json={"to_revision": at})
    assert done.status == 200, await done.text()
    text = await done.text()
    assert '"rate":0.1,' in text
    assert '"huge":12345678901234567890123,' in text, "integers beyond 64 bits exactly"
    body = await done.json()
    assert (body["deleted"], body["revision"]) == ([], int(done.headers["Config-Revision"]))
    assert [c["config"] for c in body["configurations"]] == [cfg["config"]]
    one = await make(client, "POST", f"{path}/rollback", params={"dry_run": "true"},
                     json={"to_version": 2})  # fmt: skip
    assert one["patch"] == [{"op": "replace", "path": "/config/rate", "value": 0.25}]
    back = await make(client, "POST", f"{path}/rollback", json={"to_version": 2})
    assert back["config"] == {**cfg["config"], "rate": 0.25}, "as the database wrote them"


async def test_a_rollback_to_before_the_application_existed_needs_empty_ok(client, db) -> None:
    await app_and_config(client, {"a": 1})  # revisions 1 and 2: another application
    app = await make(client, "POST", "/applications", json={"name": "shop"})
    body = {"application_id": app["id"], "name": "limits", "config": {}}
    cfg = await make(client, "POST", "/configurations", json=body)
    path, before = f"/applications/{app['id']}/rollback", await state(db, app["id"])
    for params in ({}, {"dry_run": "true"}):
        refused = await refusal(client, "POST", path, 422, params=params,
                                json={"to_revision": 2})  # fmt: skip
        assert refused["errors"][0]["field"] == "to_revision"
        assert refused["first_revision"] == app["revision"] == 3
        assert "empty_ok" in refused["detail"]
    bad = await refusal(client, "POST", path, 422, json={"to_revision": 2, "empty_ok": "yes"})
    assert bad["errors"][0]["field"] == "empty_ok"
    assert await state(db, app["id"]) == before, "nothing changed"
    preview = await make(client, "POST", path, params={"dry_run": "true"},
                         json={"to_revision": 2, "empty_ok": True})  # fmt: skip
    assert preview["valid"] is True
    assert [op["op"] for op in preview["patch"]] == ["remove"]
    at_start = await make(client, "POST", path, params={"dry_run": "true"},
                          json={"to_revision": 3})  # fmt: skip
    assert at_start["patch"] == preview["patch"], "its first revision needs no flag"
    done = await make(client, "POST", path, json={"to_revision": 2, "empty_ok": True})
    assert done["deleted"] == [cfg["id"]]
    assert await state(db, app["id"]) == {}
