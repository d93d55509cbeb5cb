"""Where driver errors become the service's own: ``errors.Unavailable`` for an outage,
``errors.Conflict`` for a taken unique value, ``errors.DatabaseError`` for the rest."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import asyncpg

from configsvc import errors

# What the driver raises when the database is unreachable, restarting, overloaded, or dropped
# the connection: worth a 503 and a retry. Other PostgreSQL errors are bugs, not outages.
# OSError and TimeoutError count only around database calls (elsewhere they are usually a
# client leaving), and inside a connection block only when that connection died with them.
SOCKET_ERRORS = (OSError, TimeoutError)
OUTAGES = (
    *SOCKET_ERRORS,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.ObjectNotInPrerequisiteStateError,
    asyncpg.exceptions.InvalidCatalogNameError,
)


# Where the driver's own code lives: an OSError or TimeoutError raised in it (a query past its
# command timeout, a write on its socket) is the database's, whatever state the connection is in.
_DRIVER = os.path.dirname(asyncpg.__file__) + os.sep


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_DRIVER):
            return True
        tb = tb.tb_next
    return False


def dead(conn: asyncpg.Connection) -> bool:
    """Whether the connection can no longer be used (a pooled one whose server went away is
    detached from its proxy, which then refuses even this question)."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True


@contextlib.contextmanager
def classified(conn: asyncpg.Connection | None = None) -> Iterator[None]:
    """Turn a driver error raised inside the block into the service's own error.

    Repositories catch the errors they can name better (a taken name) before this sees them.
    With ``conn``, an OSError or TimeoutError that neither the driver raised nor killed that
    connection is not the database's (a file, another socket, a deadline of the caller's): it
    goes up unchanged.
    """
    try:
        yield
    except SOCKET_ERRORS as exc:
        if conn is not None and not dead(conn) and not _raised_by_driver(exc):
            raise
        raise errors.Unavailable(f"{exc.__class__.__name__}: {exc}") from exc
    except asyncpg.UniqueViolationError as exc:
        raise errors.Conflict(f"already exists: {exc.detail or exc}") from exc
    except OUTAGES as exc:
        raise errors.Unavailable(f"{exc.__class__.__name__}: {exc}") from exc
    except asyncpg.PostgresError as exc:
        raise errors.DatabaseError(f"{exc.__class__.__name__}: {exc}") from exc
