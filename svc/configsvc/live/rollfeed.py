"""What a rollout's change-log entry (op ``rollout``) sends, and to whom.

The entry says who the rollout takes in or lets go at that revision; each subscriber's place is
:func:`store.rollouts.targeted` of what its ``hello`` said. A subscriber whose place changes
gets an ordinary ``change`` frame (op ``updated``, with ``"rollout": {"id", "step"}``): the
candidate when it comes in, the base when an abort lets it go. Everyone else gets nothing at
that revision, and that is not a gap: revisions are the global log's, so a subscription always
skips the revisions of what is not its business (other applications' changes, and here a
rollout that does not change what it should hold). A client resumes with ``since`` as always.
"""

from __future__ import annotations

from typing import Any

from configsvc_contract import exactjson

from configsvc.live import peer
from configsvc.store import changes, rollouts


def _frame(entry: changes.Entry, configuration: dict[str, Any], rollout: dict[str, Any]) -> str:
    return exactjson.dumps({
        "type": "change", "application_id": entry.application_id, "revision": entry.revision,
        "op": "updated", "reason": entry.reason, "request_id": entry.request_id,
        "actor": None if entry.actor_id is None else {"id": entry.actor_id,
                                                      "name": entry.actor_name},
        "entry_id": entry.entry_id, "configuration": configuration,
        "rollout": {"id": rollout["id"], "step": rollout["step"]},
    })  # fmt: skip


def _place(rollout: dict[str, Any], percent: int, to: peer.Peer) -> bool:
    return rollouts.targeted(rollout["id"], percent, rollout["labels"], to.client_id, to.labels)


def frame_for(
    entry: changes.Entry, to: peer.Peer, decoded: dict[str, Any] | None = None
) -> str | None:
    """The frame ``to`` needs for a rollout entry, or None when its place did not change."""
    data = decoded if decoded is not None else exactjson.loads(entry.resource)
    rollout = data["rollout"]
    before = rollout["previous"] > 0 and _place(rollout, rollout["previous"], to)
    after = rollout["state"] == "running" and _place(rollout, rollout["percent"], to)
    if before == after:
        return None
    return _frame(entry, data["candidate"] if after else data["base"], rollout)


def in_snapshot(configs: list[dict[str, Any]], running: list[Any], to: peer.Peer | None) -> None:
    """Put the candidate of each running rollout that targets ``to`` in its snapshot."""
    if to is None:
        return
    by_id = {row["configuration_id"]: row for row in running}
    for i, config in enumerate(configs):
        row = by_id.get(config["id"])
        if row is not None and rollouts.targeted(
            row["id"], row["steps"][row["step"]]["percent"], row["labels"], to.client_id,
            to.labels,
        ) and config["version"] == row["base_version"]:  # fmt: skip
            configs[i] = rollouts.candidate_of(row, config)
