"""The audit trail's doors: refusals in their own transaction, never a secret."""

from __future__ import annotations

import pytest

from configsvc import errors
from configsvc.service import application_writes, audit, writing


async def test_a_refusal_is_recorded_on_its_own(pooled, db) -> None:
    who = writing.Write(actor=writing.Actor("tok_9", "ci"), request_id="r-9", remote_addr="::1")
    await audit.refused(
        pooled, who, "configuration.update", "configuration", "C" * 26, "A" * 26, "denied",
        "token may not write to billing",
    )  # fmt: skip
    row = await db.fetchrow("SELECT * FROM audit")
    assert (row["outcome"], row["actor_name"], row["detail"]) == (
        "denied", "ci", "token may not write to billing"
    )  # fmt: skip
    assert (row["revision"], row["reason"], row["request_id"]) == (None, None, "r-9")


async def test_a_refusal_that_cannot_be_audited_is_still_the_refusal(pooled, db, caplog) -> None:
    app = await application_writes.create_application(pooled, writing.Write(), "billing", "")
    await db.execute("""
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'audit is read-only today'; END $$;
        CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse();
    """)  # fmt: skip
    with pytest.raises(errors.PreconditionFailed):
        await application_writes.replace_application(
            pooled, writing.Write(), app["id"], {"name": "x", "comments": ""}, if_version=9
        )
    assert "could not audit a refused application.update" in caplog.text
    with pytest.raises(errors.ServiceError):
        await application_writes.replace_application(
            pooled, writing.Write(), app["id"], {"name": "x", "comments": ""}, if_version=1
        )
    assert await db.fetchval("SELECT name FROM applications") == "billing", (
        "a change cannot commit without its audit entry"
    )
