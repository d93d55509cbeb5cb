"""Who may do what, from outside: every operation against every kind of bad credentials.

Parametrised over ``routes.OPERATIONS``, so a new operation cannot be forgotten. A refused
request must answer the exact status and change nothing in the database.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import asyncpg
import pytest

from configsvc import app as app_mod
from configsvc import settings as settings_mod
from configsvc.api import operation, routes
from configsvc.auth import guard, tokens

API = operation.PREFIX
APP, CONFIG = f"{API}/applications/{{id}}", f"{API}/configurations/{{id}}"
TOKEN = f"{API}/tokens/{{id}}"
BEARER = 'Bearer realm="configsvc"'
INVALID = 'Bearer realm="configsvc", error="invalid_token"'


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def make_token(client: Any, **fields: Any) -> dict[str, Any]:
    resp = await client.post(f"{API}/tokens", json={"name": "t", **fields})
    assert resp.status == 201, await resp.text()
    created: dict[str, Any] = await resp.json()
    return created


def grant(app_id: str, access: str) -> list[dict[str, str]]:
    return [{"application_id": app_id, "access": access}]


@pytest.fixture
async def world(client, db) -> dict[str, Any]:
    """Application A with configuration C, application B, and one token of each kind."""
    a = await (await client.post(f"{API}/applications", json={"name": "alpha"})).json()
    b = await (await client.post(f"{API}/applications", json={"name": "beta"})).json()
    body = {"application_id": a["id"], "name": "c", "config": {"password": "hunter2"}}
    c = await (await client.post(f"{API}/configurations", json=body)).json()
    revoked = await make_token(client, admin=True)
    assert (await client.delete(f"{API}/tokens/{revoked['id']}")).status == 204
    # The API makes no token that is expired already; time passes for this one. Never used
    # yet, it is in no worker's cache.
    expired = await make_token(client, admin=True)
    await db.execute("UPDATE tokens SET expires_at = now() - interval '1 hour' WHERE id = $1",
                     expired["id"])  # fmt: skip
    return {
        "a": a, "b": b, "c": c, "revoked": revoked["token"],
        "reader": await make_token(client, grants=grant(a["id"], "read")),
        "other": await make_token(client, grants=grant(b["id"], "write")),
        "expired": expired["token"],
    }  # fmt: skip


def target(op: operation.Operation, world: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """The path (ids filled in) and a valid body for ``op``, aimed at application A."""
    rid = next((ids for prefix, ids in ((APP, world["a"]["id"]), (CONFIG, world["c"]["id"]),
                                           (TOKEN, world["reader"]["id"]))
                if op.path.startswith(prefix)), "")  # fmt: skip
    bodies = {
        f"{API}/applications": {"name": "new"}, APP: {"name": "renamed"},
        f"{API}/configurations": {"application_id": world["a"]["id"], "name": "n", "config": {}},
        CONFIG: {"name": "c", "config": {"password": "changed"}},
        f"{API}/tokens": {"name": "new"}, TOKEN: {"name": "renamed"},
        f"{CONFIG}/rollback": {"to_version": 1}, f"{APP}/rollback": {"to_revision": 1},
        f"{APP}/schemas/{{name}}": {"type": "object"},
        f"{API}/sessions": {},  # the token in the header, as the cases send it
        f"{CONFIG}/rollouts": {"config": {"password": "canary"}, "reason": "canary",
                               "steps": [{"percent": 100}], "abort_on": {"rejected": 1}},
        f"{CONFIG}/rollouts/{{rollout_id}}/promote": {"reason": "now"},
        f"{CONFIG}/rollouts/{{rollout_id}}/abort": {"reason": "stop"},
    }  # fmt: skip
    # No rollout runs: one that does not exist must still be refused as the caller deserves.
    path = (op.path.replace("{id}", rid).replace("{name}", "*")
            .replace("{rollout_id}", "01JZZZZZZZZZZZZZZZZZZZZZZZ"))  # fmt: skip
    return path, bodies.get(op.path) if op.request else None


async def state(db: asyncpg.Connection) -> str:
    """Everything a refused request must leave alone (last use is bookkeeping, not state)."""
    rows = [
        await db.fetch("SELECT * FROM revision_counter"),
        await db.fetch("SELECT * FROM applications ORDER BY id"),
        await db.fetch("SELECT * FROM configurations ORDER BY id"),
        await db.fetch("SELECT id, name, admin, grants, expires_at FROM tokens ORDER BY id"),
    ]
    return repr([[dict(r) for r in table] for table in rows])


# (case, credentials, the status each kind of operation gets): needs read / token / write /
# create / admin. None: allowed (not a refusal; the status is the operation's own).
NEEDS = ("read", "token", "write", "create", "admin")
CASES = [
    ("missing", None, dict.fromkeys(NEEDS, 401)),
    ("malformed", "Basic dXNlcjpwYXNz", dict.fromkeys(NEEDS, 401)),
    ("unknown", tokens.new_secret(), dict.fromkeys(NEEDS, 401)),
    ("expired", "expired", dict.fromkeys(NEEDS, 401)),
    ("revoked", "revoked", dict.fromkeys(NEEDS, 401)),
    ("read-only", "reader", dict(zip(NEEDS, (None, None, 403, 403, 403), strict=True))),
    ("other-app", "other", dict(zip(NEEDS, (404, None, 404, 403, 403), strict=True))),
]  # fmt: skip


def credentials(case: str, value: str | None, world: dict[str, Any]) -> dict[str, str]:
    if value is None:
        return {}
    if value.startswith("Basic"):
        return {"Authorization": value}
    found = world.get(value, value)
    return bearer(found["token"] if isinstance(found, dict) else found)


def expected(op: operation.Operation, statuses: dict[str, int | None]) -> int | None:
    status = statuses[op.needs]
    if status == 404 and op.path == f"{API}/configurations":
        return 422  # as for an application that does not exist: application_id names nothing
    return status


@pytest.mark.parametrize("op", routes.OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
async def test_every_operation_refuses_bad_credentials_and_changes_nothing(
    op: operation.Operation, client, world, db
) -> None:
    path, body = target(op, world)
    async with aiohttp.ClientSession(str(client.make_url(""))) as anonymous:
        for case, value, statuses in CASES:
            status = expected(op, statuses)
            if status is None:
                continue
            before = await state(db)
            headers = credentials(case, value, world)
            async with anonymous.request(op.method, path, json=body, headers=headers) as resp:
                text = await resp.text()
                assert resp.status == status, (case, text)
                assert resp.content_type == "application/problem+json", case
                slug = {401: "unauthenticated", 403: "forbidden"}.get(status)
                if slug is not None:
                    assert json.loads(text)["type"] == f"urn:configsvc:problem:{slug}", case
                if status == 401:
                    assert resp.headers["WWW-Authenticate"] == (INVALID if headers else BEARER)
            assert await state(db) == before, f"{case} changed something"
            for secret in (world["reader"]["token"], world["other"]["token"], world["revoked"]):
                assert secret not in text, "no secret in any answer"


async def test_a_target_outside_the_grants_is_the_very_404_of_a_missing_one(client, world) -> None:
    other = bearer(world["other"]["token"])
    for path, missing in ((APP, "0" * 26), (CONFIG, "0" * 26)):
        hidden = await client.get(path.replace("{id}", world["a" if path == APP else "c"]["id"]),
                                  headers=other)  # fmt: skip
        absent = await client.get(path.replace("{id}", missing), headers=other)
        assert hidden.status == absent.status == 404
        shown, real = await hidden.json(), await absent.json()
        assert (shown["title"], shown["type"]) == (real["title"], real["type"])
        assert world["a"]["name"] not in json.dumps(shown)


async def test_lists_show_only_what_the_token_may_read(client, world) -> None:
    resp = await client.get(f"{API}/applications", headers=bearer(world["reader"]["token"]))
    assert [a["name"] for a in (await resp.json())["items"]] == ["alpha"]
    resp = await client.get(f"{API}/applications", headers=bearer(world["other"]["token"]))
    assert [a["name"] for a in (await resp.json())["items"]] == ["beta"]
    everything = await make_token(client, grants=grant("*", "read"))
    resp = await client.get(f"{API}/applications", headers=bearer(everything["token"]))
    assert [a["name"] for a in (await resp.json())["items"]] == ["alpha", "beta"]


async def test_write_implies_read_and_star_grants_cover_every_application(client, world) -> None:
    writer = bearer((await make_token(client, grants=grant(world["a"]["id"], "write")))["token"])
    cfg = CONFIG.replace("{id}", world["c"]["id"])
    assert (await client.get(cfg, headers=writer)).status == 200
    resp = await client.put(cfg, json={"name": "c", "config": {"v": 2}}, headers=writer)
    assert resp.status == 200
    resp = await client.post(f"{API}/applications", json={"name": "x"}, headers=writer)
    assert resp.status == 403
    assert "needs write access on every application" in (await resp.json())["detail"]
    creator = bearer((await make_token(client, grants=grant("*", "write")))["token"])
    resp = await client.post(f"{API}/applications", json={"name": "x"}, headers=creator)
    assert resp.status == 201


async def test_the_actor_of_every_change_is_recorded(client, world, db) -> None:
    writer = await make_token(client, name="deployer", grants=grant(world["a"]["id"], "write"))
    cfg = CONFIG.replace("{id}", world["c"]["id"])
    resp = await client.put(cfg, json={"name": "c", "config": {}}, headers=bearer(writer["token"]))
    assert resp.status == 200
    row = await db.fetchrow("SELECT actor_id, actor_name FROM changes ORDER BY revision DESC")
    assert (row["actor_id"], row["actor_name"]) == (writer["id"], "deployer")


async def test_the_body_is_not_read_before_the_caller_is_known(client) -> None:
    async with aiohttp.ClientSession(str(client.make_url(""))) as anonymous:
        resp = await anonymous.post(f"{API}/applications", data=b"x" * 10,
                                    headers={"Content-Type": "text/plain"})  # fmt: skip
        assert resp.status == 401, "not 415: the body was never looked at"


async def test_a_token_in_the_query_string_is_ignored(client, admin_token) -> None:
    async with aiohttp.ClientSession(str(client.make_url(""))) as anonymous:
        resp = await anonymous.get(f"{API}/applications", params={"token": admin_token})
        assert resp.status == 401


async def test_public_paths_need_nothing(client) -> None:
    async with aiohttp.ClientSession(str(client.make_url(""))) as anonymous:
        for path in ("/healthz", "/readyz", f"{API}/openapi.json", f"{API}/docs"):
            assert (await anonymous.get(path)).status == 200, path


# --- the WebSocket upgrade -----------------------------------------------------------------


def subprotocol(secret: str) -> str:
    return "configsvc.bearer." + base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")


async def test_a_browser_presents_its_token_as_a_subprotocol(client, world, admin_token) -> None:
    async with aiohttp.ClientSession(str(client.make_url(""))) as browser:
        offered = ("configsvc.v1", subprotocol(admin_token))
        async with browser.ws_connect(f"{API}/ws", protocols=offered) as ws:
            assert ws.protocol == "configsvc.v1"
            await ws.send_json({"type": "subscribe", "application_id": world["a"]["id"]})
            assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        for bad in ((), ("configsvc.v1", subprotocol(tokens.new_secret())),
                    ("configsvc.v1", "configsvc.bearer.!!!")):  # fmt: skip
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await browser.ws_connect(f"{API}/ws", protocols=bad)
            assert refused.value.status == 401


async def test_subscribing_to_an_application_the_token_cannot_read_is_not_found(
    client, world
) -> None:
    async with client.ws_connect(f"{API}/ws", headers=bearer(world["other"]["token"])) as ws:
        for message in ({"application_id": world["a"]["id"]}, {"application_name": "alpha"}):
            await ws.send_json({"type": "subscribe", **message})
            error = await ws.receive_json(timeout=5)
            assert (error["type"], error["code"]) == ("error", "not_found")
        await ws.send_json({"type": "subscribe", "application_id": world["b"]["id"]})
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot", "the socket is kept"


# --- modes -----------------------------------------------------------------------------------


async def test_observe_mode_allows_everything_and_counts_what_it_would_refuse(
    settings, aiohttp_client
) -> None:
    observe = settings.model_copy(update={"auth_mode": "observe"})
    client = await aiohttp_client(app_mod.create_app(observe))
    resp = await client.post(f"{API}/applications", json={"name": "anonymous"})
    assert resp.status == 201
    assert (await client.get(f"{API}/applications", headers=bearer("junk"))).status == 200
    assert client.app[guard.GUARD].observer.would_refuse == 2


async def test_off_mode_is_refused_unless_host_is_loopback(settings, aiohttp_client) -> None:
    with pytest.raises(ValueError, match="AUTH_MODE=off is allowed only when HOST is a loopback"):
        settings_mod.Settings(database_url="postgresql://x/y", host="0.0.0.0", auth_mode="off")
    off = settings.model_copy(update={"auth_mode": "off"})
    client = await aiohttp_client(app_mod.create_app(off))
    assert (await client.post(f"{API}/applications", json={"name": "x"})).status == 201


async def test_refused_writes_leave_their_audit_entry_and_nothing_else(client, world, db) -> None:
    cfg = f"{API}/configurations/{world['c']['id']}"
    body = {"name": "c", "config": {"password": "changed"}}
    before = await state(db)
    no_token = await client.put(cfg, json=body, headers={"Authorization": "", "User-Agent": "t/1"})
    assert no_token.status == 401
    reader = bearer(world["reader"]["token"])
    assert (await client.put(cfg, json=body, headers=reader)).status == 403
    assert await state(db) == before
    rows = await db.fetch(
        "SELECT action, outcome, actor_name, user_agent, detail FROM audit"
        " WHERE outcome = 'denied' ORDER BY id"
    )
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("PUT /api/v1/configurations/{id}", "denied"), ("configuration.update", "denied")
    ]  # fmt: skip
    assert (rows[0]["actor_name"], rows[0]["user_agent"]) == (None, "t/1")
    assert rows[1]["actor_name"] == world["reader"]["name"]
    assert world["reader"]["token"] not in repr([dict(r) for r in rows]), "never a secret"


async def test_writes_refused_before_the_write_path_are_audited_once(client, world, db) -> None:
    cfg = f"{API}/configurations/{world['c']['id']}"
    before, (last,) = await state(db), await db.fetch("SELECT max(id) AS id FROM audit")
    refused = [
        (await client.put(cfg, data=b"{not json", headers={"Content-Type": "application/json"})),
        (await client.put(cfg, data=b"x=1", headers={"Content-Type": "text/plain"})),
        (await client.post(f"{API}/applications", json={"name": " padded"})),
        (await client.delete(f"{API}/applications/01J00000000000000000000000")),
        (await client.put(cfg, json={"name": "c", "config": {}}, headers={"If-Match": '"99"'})),
    ]
    assert [r.status for r in refused] == [400, 415, 422, 404, 412]
    assert await state(db) == before
    rows = await db.fetch(
        "SELECT action, outcome, actor_name, detail FROM audit WHERE id > $1 ORDER BY id",
        last["id"],
    )
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("PUT /api/v1/configurations/{id}", "invalid"),
        ("PUT /api/v1/configurations/{id}", "invalid"),
        ("POST /api/v1/applications", "invalid"),
        ("DELETE /api/v1/applications/{id}", "invalid"),
        ("configuration.update", "invalid"),  # the write path's own entry, not a second one
    ]
    assert {r["actor_name"] for r in rows} == {"bootstrap"}
    assert "not valid JSON" in rows[0]["detail"]
