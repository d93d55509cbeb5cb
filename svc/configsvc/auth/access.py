"""Who is calling, and the one place a request is refused for want of access.

``authorize`` is called by the read handlers, the feed, and inside the write path's
transaction (service/writes.py) once the target's application id is known, before anything is
written. A target the token may not read is refused as ``errors.NotFound`` with the very
message a missing one gets, so names and ids do not leak. Every refusal (401, 403, and those
404s) is raised by :func:`refuse`: the one spot where refused requests can be audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal, NoReturn

from configsvc import errors
from configsvc.auth import tokens

log = logging.getLogger(__name__)

Mode = Literal["enforce", "observe", "off"]


@dataclass(slots=True)
class Observer:
    """In ``observe`` mode: how many requests ``enforce`` would have refused."""

    would_refuse: int = 0

    def note(self, exc: errors.ServiceError) -> None:
        self.would_refuse += 1
        log.warning("auth observe: would refuse (%s): %s", type(exc).__name__, exc)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated token (None when there is none and the mode lets it pass)."""

    token: tokens.Token | None
    mode: Mode = "enforce"
    observer: Observer = field(default_factory=Observer)


def refuse(caller: Caller | None, exc: errors.ServiceError) -> None:
    """Raise ``exc``, unless the mode only observes (then log and count it)."""
    if caller is not None and caller.mode == "observe":
        caller.observer.note(exc)
        return
    _raise(exc)


def _raise(exc: errors.ServiceError) -> NoReturn:
    raise exc


def may(caller: Caller | None, application_id: str, access: tokens.Access) -> bool:
    """Without refusing: whether the caller may (``None``, an internal caller, may anything)."""
    if caller is None or caller.mode == "off":
        return True
    if caller.token is None:
        # Observe mode already counted this request when it found no token.
        return caller.mode == "observe"
    return caller.token is not None and caller.token.may(application_id, access)


def authorize(
    caller: Caller | None, application_id: str, access: tokens.Access,
    missing: errors.ServiceError | None = None,
) -> None:  # fmt: skip
    """Refuse unless the caller has ``access`` on the application (``*``: on all of them).

    Without even ``read``, the refusal is ``missing`` (what a nonexistent target gets), if given.
    """
    if may(caller, application_id, access):
        return
    if missing is not None and not may(caller, application_id, "read"):
        refuse(caller, missing)
    else:
        what = "every application" if application_id == tokens.ALL else application_id
        refuse(caller, errors.Forbidden(f"needs {access} access on {what}"))


def require_metrics(caller: Caller | None) -> None:
    """Admin, or a token with a ``metrics`` grant."""
    if caller is None or caller.mode == "off":
        return
    token = caller.token
    if token is None or not (token.admin or token.metrics):
        refuse(caller, errors.Forbidden('needs an admin token or a "metrics" grant'))


def require_admin(caller: Caller | None) -> None:
    if caller is None or caller.mode == "off":
        return
    if caller.token is None or not caller.token.admin:
        refuse(caller, errors.Forbidden("needs an admin token"))


def readable(caller: Caller | None) -> list[str] | None:
    """Application ids a list may show; None for every one."""
    if caller is None or caller.mode != "enforce" or caller.token is None:
        return None
    return caller.token.readable()
