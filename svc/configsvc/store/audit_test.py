"""The audit trail leaves only by age."""

from __future__ import annotations

from configsvc.service import application_writes, writing
from configsvc.store import audit


async def test_entries_older_than_the_retention_are_pruned(pooled, db) -> None:
    for name in ("a", "b", "c"):
        await application_writes.create_application(pooled, writing.Write(), name, "")
    await db.execute("UPDATE audit SET at = now() - interval '500 days' WHERE revision < 3")
    assert await audit.prune(db, 400 * 86400) == 2
    assert [e["revision"] for e in await audit.page(db, audit.Filter(), 2**62, 10)] == [3]
