from __future__ import annotations

from configsvc_contract import models

from configsvc_client import replies, transport

DRY = {"valid": True, "errors": [], "status": 204, "patch": [], "would_be_version": None,
       "subscribers": 0}  # fmt: skip
ACTOR = {"id": "t", "name": "ci"}


def test_a_write_answers_the_resource_or_the_dry_run() -> None:
    reply = transport.Reply(200, ACTOR, "", '"1"')
    assert replies.written(models.Actor, reply, dry_run=False) == models.Actor(**ACTOR)
    dry = transport.Reply(200, DRY, "", None)
    assert replies.written(models.Actor, dry, dry_run=True) == models.DryRun(**DRY)
    assert replies.dry_run_or_none(dry, dry_run=False) is None
    assert replies.dry_run_or_none(dry, dry_run=True) == models.DryRun(**DRY)


def test_a_read_keeps_the_etag_it_was_served_with() -> None:
    read = replies.tagged(models.Actor, transport.Reply(200, ACTOR, "", '"7"'))
    assert (read.value.name, read.etag) == ("ci", '"7"')
    assert replies.tagged(models.Actor, transport.Reply(200, ACTOR, "", None)).etag == ""
