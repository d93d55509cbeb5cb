"""Who this process is in the service's fleet view: its id, its labels, its SDK, its hello."""

from __future__ import annotations

import importlib.metadata
import os
import socket
import sys
import uuid
from typing import Any

from configsvc_contract import models

_PROCESS_IDS: dict[int, str] = {}


def client_id() -> str:
    """This process's id in the fleet view: the same on every socket it opens, new after fork."""
    return _PROCESS_IDS.setdefault(os.getpid(), uuid.uuid4().hex)


def default_labels() -> dict[str, str]:
    """host, pid, and service: the program's name."""
    service = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    return {"host": socket.gethostname(), "pid": str(os.getpid()), "service": service}


def sdk() -> str:
    try:
        return f"configsvc-client/{importlib.metadata.version('configsvc-client')}"
    except importlib.metadata.PackageNotFoundError:
        return "configsvc-client/unknown"


def hello(labels: dict[str, str]) -> dict[str, Any]:
    """The first frame on a feed socket: this process and its labels (as many as are taken)."""
    kept = dict(list(labels.items())[: models.LABELS_MAX])
    return {"type": "hello", "client_id": client_id(), "labels": kept, "sdk": sdk()}
