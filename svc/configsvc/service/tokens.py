"""The write path of access tokens: create, replace, revoke, bootstrap.

Each owns its transaction and NOTIFYs the tokens channel in it, so every worker drops the
token from its cache and re-checks its sockets exactly when the change commits. The secret is
made here, hashed here, and returned once; only its hash reaches the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from configsvc import errors
from configsvc.auth import tokens
from configsvc.db import database
from configsvc.service import audit, writing
from configsvc.store import tokens as token_store

# A change made by the service itself or from its command line: no token behind it.
INTERNAL = writing.Write()


def _grants(grants: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{"application_id": g["application_id"], "access": g["access"]} for g in grants]


def _check(grants: list[dict[str, str]], expires_at: datetime | None) -> None:
    """422 for what no token should be made with: an expiry already past (refused at once: an
    admin replacing its own token would lock itself out) or a grant given twice."""
    problems = []
    if expires_at is not None and expires_at <= datetime.now(UTC):
        problems.append(("expires_at", "must be in the future (or null: never expires)"))
    first: dict[tuple[str, str], int] = {}
    for i, grant in enumerate(grants):
        key = (grant["application_id"], grant["access"])
        if key in first:
            problems.append((f"grants.{i}", f"repeats grants.{first[key]}"))
        first.setdefault(key, i)
    if problems:
        raise errors.Invalid(problems)


async def create(
    db: database.Database, fields: dict[str, Any], write: writing.Write = INTERNAL
) -> dict[str, Any]:
    """A new token; the returned resource carries its secret as ``token``, this once."""
    fields = {**fields, "grants": _grants(fields.get("grants", []))}
    _check(fields["grants"], fields.get("expires_at"))
    secret = tokens.new_secret()
    async with db.connection() as conn, conn.transaction():
        token = await token_store.insert(conn, tokens.hash_secret(secret), fields)
        await token_store.notify(conn, token["id"])
        await audit.record(conn, write, "token.create", "token", token["id"], None)
    return {**token, "token": secret}


async def replace(
    db: database.Database, token_id: str, name: str, grants: list[dict[str, str]],
    expires_at: datetime | None, write: writing.Write = INTERNAL,
) -> dict[str, Any]:  # fmt: skip
    """Replace name, grants and expiry; sockets that lose a grant lose that subscription."""
    grants = _grants(grants)
    _check(grants, expires_at)
    async with db.connection() as conn, conn.transaction():
        token = await token_store.update(conn, token_id, name, grants, expires_at)
        await token_store.notify(conn, token_id)
        await audit.record(conn, write, "token.replace", "token", token_id, None)
    return token


async def revoke(db: database.Database, token_id: str, write: writing.Write = INTERNAL) -> None:
    """Delete the token: every worker refuses it and closes its sockets (4401)."""
    async with db.connection() as conn, conn.transaction():
        await token_store.delete(conn, token_id)
        await token_store.notify(conn, token_id)
        await audit.record(conn, write, "token.revoke", "token", token_id, None)


async def bootstrap(db: database.Database, secret: str, name: str = "bootstrap") -> bool:
    """Store ``secret`` as admin token ``name`` unless an admin token exists.

    Safe with many workers starting at once: the check and the insert share one lock.
    """
    async with db.connection() as conn, conn.transaction():
        if await token_store.lock_bootstrap(conn):
            return False
        fields = {"name": name, "admin": True}
        token = await token_store.insert(conn, tokens.hash_secret(secret), fields)
        await token_store.notify(conn, token["id"])
        await audit.record(conn, INTERNAL, "token.bootstrap", "token", token["id"], None)
    return True
