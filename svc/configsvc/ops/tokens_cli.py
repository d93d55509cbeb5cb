"""``python -m configsvc tokens create|list|revoke``: tokens straight in DATABASE_URL's database.

The way back in when every admin token is lost: it needs the database, not the service.
``create`` prints the secret once, on stdout; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

import pydantic
from configsvc_contract import models

from configsvc import errors
from configsvc import settings as settings_mod
from configsvc.db import database, failures, migrations
from configsvc.service import tokens as token_service
from configsvc.store import tokens as token_store


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m configsvc tokens", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a token; prints its secret once")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true", help="may do everything")
    create.add_argument("--grant", action="append", default=[], metavar="APP_ID:read|write",
                        help="access to one application (or *); repeatable")  # fmt: skip
    create.add_argument("--expires", default=None, metavar="RFC3339")
    commands.add_parser("list", help="list the tokens (never their secrets)")
    revoke = commands.add_parser("revoke", help="delete a token; its sockets are closed")
    revoke.add_argument("id")
    return top


def token_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The ``create`` arguments as a validated TokenIn; ValueError says what is wrong."""
    if args.admin == bool(args.grant):
        raise ValueError("give either --admin or at least one --grant APP_ID:read|write")
    grants = []
    for grant in args.grant:
        app_id, _, access = grant.rpartition(":")
        grants.append({"application_id": app_id, "access": access})
    raw = {"name": args.name, "admin": args.admin, "grants": grants, "expires_at": args.expires}
    try:
        return models.TokenIn.model_validate(raw).model_dump()
    except pydantic.ValidationError as exc:
        raise ValueError("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )) from None  # fmt: skip


@asynccontextmanager
async def _database(url: str) -> AsyncIterator[database.Database]:
    settings = settings_mod.Settings(database_url=url, db_pool_min=0, db_pool_max=1)
    with failures.classified():
        pool = await database.create_pool(url, settings)
    try:
        db = database.Database(pool, acquire_timeout_s=10)
        async with db.connection() as conn:
            await migrations.apply(conn)
        yield db
    finally:
        await pool.close()


async def run(url: str, args: argparse.Namespace, out: TextIO) -> None:
    async with _database(url) as db:
        if args.command == "create":
            created = await token_service.create(db, token_fields(args))
            print(f"created token {created['id']} ({created['name']}); its secret, shown once:",
                  file=sys.stderr)  # fmt: skip
            print(created["token"], file=out)
        elif args.command == "list":
            async with db.connection() as conn:
                for token in await token_store.page(conn, "", 1_000_000):
                    print(json.dumps(token), file=out)
        else:
            await token_service.revoke(db, args.id)
            print(f"revoked token {args.id}", file=sys.stderr)


def main(argv: list[str], out: TextIO = sys.stdout) -> int:
    """Run one tokens command; 0 on success, 1 when the database refused, 2 for bad input."""
    args = parser().parse_args(argv)
    url = settings_mod.load().database_url
    if not url:  # make token runs this through devtools, which starts the local database
        print(settings_mod.NO_DATABASE_URL, file=sys.stderr)
        return 2
    try:
        asyncio.run(run(url, args, out))
    except (ValueError, errors.Invalid) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (errors.ServiceError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
