"""The live view against real server processes (gunicorn master and workers, real PostgreSQL).

No timing assertions: every wait is on an event, bounded by a generous timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from configsvc_contract import models

import conftest
from configsvc_client import api, backoff, errors, events, live, live_test, watch

# These tests reach real servers: with the admin token, through CONFIGSVC_TOKEN.
pytestmark = pytest.mark.usefixtures("token_env")

Factory = Callable[..., conftest.Service]
QUICK = backoff.Backoff(base=0.05, cap=1.0)
PATIENCE = 60


async def until_revision(stream: events.EventStream, revision: int) -> list[events.Event]:
    """Collect events until one at or past ``revision`` arrives."""
    got: list[events.Event] = []
    async with asyncio.timeout(PATIENCE):
        async for event in stream:
            got.append(event)
            if event.revision >= revision:
                return got
    raise AssertionError("the stream ended early")


async def latest(db: asyncpg.Connection, application_id: str) -> list[int]:
    rows = await db.fetch(
        "SELECT revision FROM changes WHERE application_id = $1 ORDER BY revision", application_id
    )
    return [row["revision"] for row in rows]


async def current(rest: api.ConfigClient, application_id: str) -> dict[str, Any]:
    return {c.name: c.config async for c in rest.iter_configurations(application_id)}


async def test_killing_the_workers_mid_stream_loses_and_repeats_nothing(
    service_factory: Factory, db: asyncpg.Connection
) -> None:
    service = service_factory(workers=2)
    # No retries for the writes: a retried PUT could log a change that changes nothing.
    async with api.ConfigClient(service.url, retries=0) as rest:
        app = await rest.create_application("billing")
        ids = [(await rest.create_configuration(app.id, f"c{n}", {"n": 0})).id for n in range(3)]
        watcher = rest.watch("billing", backoff=QUICK)
        async with watcher as view:
            start = view.revision
            stream = view.events(maxsize=10_000)
            for n in range(1, 121):  # every write, even a failed one, writes a new value
                with contextlib.suppress(errors.ClientError):
                    await rest.replace_configuration(ids[n % 3], f"c{n % 3}", {"n": n})
                if n % 40 == 20:  # three times, each in the middle of the stream
                    for pid in service.worker_pids():
                        os.kill(pid, signal.SIGKILL)
            logged = [r for r in await latest(db, app.id) if r > start]
            got = await until_revision(stream, logged[-1])
            assert [e.revision for e in got] == logged
            assert all(isinstance(e, events.ChangeEvent) and e.op == "updated" for e in got)
            assert dict(view) == await current(rest, app.id)
            assert watcher.attempts >= 3  # it did lose its worker each round
            assert not view.stale


async def test_a_cached_state_serves_while_the_service_is_down(
    service_factory: Factory, tmp_path: Path
) -> None:
    cache_file = str(tmp_path / "billing.json")
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url, retries=1) as rest:
        app = await rest.create_application("billing")
        limits = await rest.create_configuration(app.id, "limits", {"rate": 1})
        async with rest.watch("billing", cache_path=cache_file) as view:
            assert dict(view) == {"limits": {"rate": 1}}
        await rest.replace_configuration(limits.id, "limits", {"rate": 2})
    service.stop()

    rest = api.ConfigClient(service.url, retries=0, timeout=2)
    async with rest, rest.watch("billing", cache_path=cache_file, backoff=QUICK) as view:
        assert view.stale
        assert dict(view) == {"limits": {"rate": 1}}
        await asyncio.to_thread(service.start)
        async with asyncio.timeout(PATIENCE):
            await view.fresh()
        assert dict(view) == {"limits": {"rate": 2}}
    async with api.ConfigClient(service.url) as rest, rest.watch(app.id) as view:
        assert not view.stale


async def test_without_a_cache_an_unreachable_service_fails_the_start(
    service_factory: Factory, tmp_path: Path
) -> None:
    service = service_factory(workers=1)
    service.stop()
    async with api.ConfigClient(service.url, timeout=1) as rest:
        with pytest.raises(errors.Unavailable):
            async with rest.watch("billing", start_timeout=0.5, backoff=QUICK):
                pass
        # A cache of another application is no help either.
        (tmp_path / "other.json").write_text("{}")
        with pytest.raises(errors.Unavailable):
            async with rest.watch(
                "billing", cache_path=str(tmp_path / "other.json"), start_timeout=0.5
            ):
                pass


async def test_the_validator_keeps_the_last_good_value(service_factory: Factory) -> None:
    def validate(name: str, config: dict[str, Any]) -> bool:
        return config.get("rate", 0) >= 0

    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        limits = await rest.create_configuration(app.id, "limits", {"rate": 1})
        async with rest.watch(app.id, validate=validate) as view:
            stream = view.events()
            bad = await rest.replace_configuration(limits.id, "limits", {"rate": -1})
            (rejection,) = await until_revision(stream, bad.revision)
            assert isinstance(rejection, events.Rejection)
            assert (rejection.name, rejection.config) == ("limits", {"rate": -1})
            assert list(view.rejections) == [rejection]
            assert view["limits"] == {"rate": 1}
            assert view.revision == bad.revision
            good = await rest.replace_configuration(limits.id, "limits", {"rate": 3})
            (change,) = await until_revision(stream, good.revision)
            expected = events.ChangeEvent(
                "limits", {"rate": 1}, {"rate": 3}, good.revision, op="updated"
            )
            assert change == expected


async def test_the_view_follows_a_whole_service_restart(service_factory: Factory) -> None:
    service = service_factory(workers=2)
    async with api.ConfigClient(service.url, retries=5) as rest:
        app = await rest.create_application("billing")
        async with rest.watch("billing", backoff=QUICK) as view:
            stream = view.events()
            await asyncio.to_thread(service.stop)  # its workers close our socket with 1001
            await asyncio.to_thread(service.start)
            made = await rest.create_configuration(app.id, "limits", {"rate": 1})
            (event,) = await until_revision(stream, made.revision)
            assert (event.name, event.revision) == ("limits", made.revision)
            assert dict(view) == {"limits": {"rate": 1}}


async def test_an_unknown_or_deleted_application_ends_the_view(service_factory: Factory) -> None:
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        with pytest.raises(errors.NotFound):
            async with rest.watch("nothing"):
                pass
        app = await rest.create_application("billing")
        await rest.create_configuration(app.id, "limits", {"rate": 1})
        async with rest.watch("billing") as view:
            stream = view.events()
            renamed = await rest.replace_application(app.id, "invoicing")
            await rest.delete_application(app.id)
            got = [e async for e in stream]  # ends when the view does
            assert [(e.name, e.new) for e in got] == [("limits", None)]
            assert view.deleted
            assert view.application_name == "invoicing"
            assert view.revision > renamed.revision
            assert dict(view) == {}
            with pytest.raises(errors.WatchClosed):
                await view.changed()


async def test_an_application_deleted_while_away_ends_the_view(
    service_factory: Factory, db: asyncpg.Connection
) -> None:
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        await rest.create_configuration(app.id, "limits", {"rate": 1})
        async with rest.watch("billing", backoff=QUICK) as view:
            stream = view.events()
            await asyncio.to_thread(service.stop)
            # Behind the service's back: while it is down, no change can be logged anyway.
            await db.execute("DELETE FROM applications WHERE id = $1", app.id)
            await asyncio.to_thread(service.start)
            async with asyncio.timeout(PATIENCE):
                got = [e async for e in stream]  # ends when the view does
            assert [(e.name, e.new) for e in got] == [("limits", None)]
            assert view.deleted
            assert dict(view) == {}


def test_bad_frames_are_ignored_and_refusals_retried() -> None:
    watcher = api.ConfigClient("http://127.0.0.1:1").watch("billing")
    watcher._handle('{"type": "surprise"}')
    watcher._handle("not json")
    with pytest.raises(watch._Refused):
        watcher._handle('{"type": "error", "code": "unavailable", "detail": "db away"}')
    watcher._handle('{"type": "synced", "application_id": "x", "revision": 3}')
    watcher._handle('{"type": "error", "code": "bad_request", "detail": "not ours"}')
    assert watcher.live.revision == 3
    assert not watcher.live.stale


async def test_a_server_that_never_answers_the_subscription_is_left(
    aiohttp_server,  # type: ignore[no-untyped-def]
) -> None:
    subscriptions: list[str] = []
    hellos: list[dict[str, Any]] = []
    second = asyncio.Event()

    async def silent(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hellos.append(json.loads(await ws.receive_str()))
        subscriptions.append(await ws.receive_str())
        if len(subscriptions) == 2:
            second.set()
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get("/api/v1/ws", silent)
    server = await aiohttp_server(app)
    rest = api.ConfigClient(str(server.make_url("")), timeout=0.2, labels={"version": "1.2"})
    watcher = rest.watch("billing", backoff=QUICK, start_timeout=None)
    async with rest:
        starting = asyncio.create_task(watcher.__aenter__())
        async with asyncio.timeout(PATIENCE):
            await second.wait()
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
    assert json.loads(subscriptions[1]) == {"type": "subscribe", "application_name": "billing"}
    assert watcher.live.closed
    # Every socket says who it is first, with the same client id for the whole process.
    assert hellos[0] == hellos[1]
    assert hellos[0]["type"] == "hello"
    assert hellos[0]["sdk"].startswith("configsvc-client/")
    assert hellos[0]["labels"] == {
        "host": socket.gethostname(), "pid": str(os.getpid()),
        "service": os.path.basename(sys.argv[0]), "version": "1.2",
    }  # fmt: skip


async def test_an_async_validator_is_refused_rather_than_trusted() -> None:
    async def validate(name: str, config: dict[str, Any]) -> bool:
        return True

    view = live.LiveConfig("billing", validate=validate)  # type: ignore[arg-type]
    view.apply_snapshot(
        models.Snapshot.model_validate(
            {
                "type": "snapshot",
                "application_id": "x",
                "revision": 1,
                "configurations": [live_test.conf(1, "a", {})],
            }
        ),
        None,
    )
    assert dict(view) == {}
    assert "not async" in view.rejections[0].reason


async def test_a_reset_after_pruning_replaces_the_view(
    service_factory: Factory, db: asyncpg.Connection
) -> None:
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        kept = await rest.create_configuration(app.id, "kept", {"v": 1})
        gone = await rest.create_configuration(app.id, "gone", {"v": 1})
        async with rest.watch("billing", backoff=QUICK) as view:
            stream = view.events()
            await asyncio.to_thread(service.stop)
            # As if changes were made and then pruned from the log while we were away:
            # the service can only answer our `since` with a fresh snapshot.
            async with db.transaction():
                await db.execute(
                    "UPDATE configurations SET config = '{\"v\": 2}' WHERE id = $1", kept.id
                )
                await db.execute("DELETE FROM configurations WHERE id = $1", gone.id)
                await db.execute(
                    "UPDATE revision_counter"
                    " SET revision = revision + 2, pruned_through = revision + 2"
                )
            await asyncio.to_thread(service.start)
            async with asyncio.timeout(PATIENCE):
                got = [await anext(stream), await anext(stream)]  # one per name, one snapshot
            assert sorted((e.name, e.old, e.new, e.op) for e in got) == [
                ("gone", {"v": 1}, None, "snapshot"),
                ("kept", {"v": 1}, {"v": 2}, "snapshot"),
            ]
            assert dict(view) == await current(rest, app.id)
            assert view.revision == gone.revision + 2


async def test_a_resume_onto_another_history_replaces_the_view(
    service_factory: Factory, db: asyncpg.Connection
) -> None:
    """A failover lost the view's last change and the new primary logged another one at the
    same revision: the resume carries the entry id it saw, so it gets a snapshot."""
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        kept = await rest.create_configuration(app.id, "kept", {"v": 1})
        async with rest.watch("billing", backoff=QUICK) as view:
            stream = view.events()
            assert view.entry_id == await db.fetchval(
                "SELECT entry_id::text FROM changes WHERE revision = $1", view.revision
            )
            await asyncio.to_thread(service.stop)
            async with db.transaction():  # the same revision, another change
                await db.execute(
                    "UPDATE configurations SET config = '{\"v\": 2}' WHERE id = $1", kept.id
                )
                await db.execute(
                    "UPDATE changes SET entry_id = gen_random_uuid() WHERE revision = $1",
                    view.revision,
                )
            await asyncio.to_thread(service.start)
            async with asyncio.timeout(PATIENCE):
                got = await anext(stream)
            assert (got.name, got.old, got.new, got.op) == ("kept", {"v": 1}, {"v": 2}, "snapshot")
            assert dict(view) == await current(rest, app.id)


async def test_renames_and_deletes_reach_the_view(service_factory: Factory) -> None:
    service = service_factory(workers=2)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        a = await rest.create_configuration(app.id, "a", {"v": 1})
        b = await rest.create_configuration(app.id, "b", {"v": 1})
        async with rest.watch("billing") as view:
            stream = view.events()
            renamed = await rest.replace_configuration(a.id, "a2", {"v": 1})
            await rest.delete_configuration(b.id)
            last = await rest.create_configuration(app.id, "c", {"v": 3})
            got = await until_revision(stream, last.revision)
            assert [(e.name, e.op) for e in got] == [
                ("a", "deleted"),
                ("a2", "created"),
                ("b", "deleted"),
                ("c", "created"),
            ]
            assert got[1].revision == renamed.revision
            assert dict(view) == {"a2": {"v": 1}, "c": {"v": 3}} == await current(rest, app.id)


async def test_a_view_takes_snapshots_larger_than_aiohttps_default_message_size(
    service_factory: Factory,
) -> None:
    service = service_factory(workers=1, max_body_bytes=str(2 * 1024 * 1024))
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("big")
        for n in range(5):  # 5 MB in all; aiohttp refuses messages over 4 MiB by default
            await rest.create_configuration(app.id, f"c{n}", {"pad": "x" * 1_000_000})
        async with rest.watch(app.id, start_timeout=PATIENCE) as view:
            assert sorted(view) == [f"c{n}" for n in range(5)]
            assert all(len(config["pad"]) == 1_000_000 for config in view.values())
            assert not view.stale


async def test_a_timeout_around_closing_a_watch_still_times_out(service_factory: Factory) -> None:
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        watcher = rest.watch(app.id)
        view = await watcher.__aenter__()
        # The deadline passes while aclose waits for the feed to stop: the caller's own
        # cancellation must reach it, or asyncio.timeout (and TaskGroup, Ctrl-C) would not work.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0):
                await watcher.aclose()
        assert view.closed


async def test_a_cancelled_close_is_cancelled(service_factory: Factory) -> None:
    service = service_factory(workers=1)
    async with api.ConfigClient(service.url) as rest:
        app = await rest.create_application("billing")
        async with asyncio.TaskGroup() as group:
            watcher = rest.watch(app.id)
            view = await watcher.__aenter__()
            closing = group.create_task(watcher.aclose())
            await asyncio.sleep(0)  # aclose has stopped the feed and waits for it
            closing.cancel()
        assert closing.cancelled()
        assert view.closed


async def test_a_subscriber_sees_an_application_rollback_as_one_step(client) -> None:
    async with api.ConfigClient(str(client.make_url(""))) as rest:
        app = await rest.create_application("billing")
        a = await rest.create_configuration(app.id, "a", {"v": 1})
        b = await rest.create_configuration(app.id, "b", {"v": 1})
        await rest.replace_configuration(a.id, "a", {"v": 2})
        await rest.delete_configuration(b.id)
        await rest.create_configuration(app.id, "c", {"v": 1})
        async with rest.watch(app.id) as view:
            assert dict(view) == {"a": {"v": 2}, "c": {"v": 1}}
            stream = view.events()
            wakes: list[tuple[int, dict[str, Any]]] = []

            async def record_wakes() -> None:
                while True:
                    await view.changed()
                    wakes.append((view.revision, dict(view)))

            waker = asyncio.create_task(record_wakes())
            await asyncio.sleep(0)
            done = await rest.rollback_application(app.id, b.revision, reason="bad deploy")
            step = [await asyncio.wait_for(anext(stream), PATIENCE) for _ in range(3)]
            async with asyncio.timeout(PATIENCE):
                while not wakes:
                    await asyncio.sleep(0.01)
            waker.cancel()
    then = {"a": {"v": 1}, "b": {"v": 1}}
    assert wakes == [(done.revision, then)], "one wake, and it shows the whole rollback"
    assert [(e.name, e.old, e.new) for e in step if isinstance(e, events.ChangeEvent)] == [
        ("a", {"v": 2}, {"v": 1}), ("b", None, {"v": 1}), ("c", {"v": 1}, None)
    ]  # fmt: skip
    assert {(e.revision, e.op) for e in step if isinstance(e, events.ChangeEvent)} == {
        (done.revision, "rolled_back")
    }


# --- access tokens -----------------------------------------------------------------------------


async def _token(rest: api.ConfigClient, application_id: str, access: str) -> dict[str, Any]:
    body = {"name": access, "grants": [{"application_id": application_id, "access": access}]}
    async with rest.session.post(
        f"{rest.base_url}/api/v1/tokens", json=body, headers=rest.auth_headers()
    ) as resp:
        assert resp.status == 201, await resp.text()
        created: dict[str, Any] = await resp.json()
        return created


async def test_a_revoked_token_ends_the_view_with_revoked_not_a_reconnect_loop(
    service_factory: Factory,
) -> None:
    service = service_factory()
    async with api.ConfigClient(service.url) as admin:
        app = await admin.create_application("billing")
        reader = await _token(admin, app.id, "read")
        rest = api.ConfigClient(service.url, token=reader["token"])
        async with rest, rest.watch(app.id, backoff=QUICK) as view:
            url = f"{service.url}/api/v1/tokens/{reader['id']}"
            async with admin.session.delete(url, headers=admin.auth_headers()) as resp:
                assert resp.status == 204
            # The view ends by itself, saying why: no reconnecting with a dead token.
            with pytest.raises(errors.Revoked):
                async with asyncio.timeout(PATIENCE):
                    await view.changed()
            assert view.closed


async def test_an_unusable_token_is_unauthorized_at_once(service_factory: Factory) -> None:
    service = service_factory()
    async with api.ConfigClient(service.url) as admin:
        app = await admin.create_application("billing")
        reader = await _token(admin, app.id, "read")
    async with api.ConfigClient(service.url, token="cfs_" + "x" * 43, retries=0) as bad:
        with pytest.raises(errors.Unauthorized):
            await bad.list_applications()
        with pytest.raises(errors.Unauthorized):
            async with bad.watch(app.id, backoff=QUICK, start_timeout=PATIENCE):
                pass
    async with api.ConfigClient(service.url, token=reader["token"]) as read_only:
        assert (await read_only.get_application(app.id)).name == "billing"
        with pytest.raises(errors.Forbidden) as refused:
            await read_only.create_configuration(app.id, "prod", {"a": 1})
        assert refused.value.status == 403
