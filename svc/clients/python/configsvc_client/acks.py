"""What a client tells the service it did with the configurations it received: one result per
configuration (applied, or rejected and why) and the ``ack`` frame that carries them."""

from __future__ import annotations

from typing import Any

from configsvc_contract import models

# Under the contract's REASON_MAX, whatever the reason's characters.
REASON_KEPT = 1000


def applied(configuration: models.Configuration) -> dict[str, Any]:
    return {"configuration_id": configuration.id, "version": configuration.version,
            "status": "applied"}  # fmt: skip


def rejected(configuration: models.Configuration, reason: str) -> dict[str, Any]:
    return {"configuration_id": configuration.id, "version": configuration.version,
            "status": "rejected", "reason": reason[:REASON_KEPT]}  # fmt: skip


def frame(application_id: str, revision: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The ack: everything up to ``revision`` of the application is applied, with ``results``."""
    return {"type": "ack", "application_id": application_id, "revision": revision,
            "results": results}  # fmt: skip
