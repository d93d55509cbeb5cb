"""Log lines: human-readable by default, one JSON object per line with ``LOG_FORMAT=json``.

Every line written while a request is served carries its request id: the middleware sets
:data:`REQUEST_ID` for the request's task, and a filter copies it onto each record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from urllib.parse import unquote_plus

from aiohttp import web

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (``-`` outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the request's route and status when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get() or getattr(record, "request_id", None),
            "pid": record.process,
        }
        for extra in ("route", "method", "status", "duration_ms"):
            if hasattr(record, extra):
                line[extra] = getattr(record, extra)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, fmt: str) -> None:
    """Set up the root logger of this process for ``LOG_FORMAT`` (``text`` or ``json``)."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A warning (a deprecation, an unclosed resource) is a log line like any other, not a
    # few lines of plain text in the middle of the JSON ones.
    logging.captureWarnings(True)


def announce(message: str, fmt: str) -> None:
    """Say ``message`` on stderr whatever LOG_LEVEL is (start-up's "serving ..."), as a log line
    of ``LOG_FORMAT`` would be written."""
    if fmt == "json":
        record = logging.LogRecord("configsvc", logging.INFO, __file__, 0, message, None, None)
        message = JsonFormatter().format(record)
    print(message, file=sys.stderr, flush=True)


# Query parameters whose values are secrets, by name (access_token, api_key, client_secret, ...);
# and any value that is one of our token secrets, whatever its parameter is called.
SECRET_PARAMETER = re.compile(r"token|secret|passw|api[-_]?key|auth|session|signature|sig$", re.I)
REDACTED = "[redacted]"


def redacted(query: str) -> str:
    """``query`` (as sent, still percent-encoded) with every secret's value replaced."""
    parts = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        if SECRET_PARAMETER.search(unquote_plus(name)) or unquote_plus(value).startswith("cfs_"):
            value = REDACTED
        parts.append(name + eq + value)
    return "&".join(parts)


access = logging.getLogger("configsvc.access")


def request_done(request: web.Request, status: int, started: float) -> None:
    """Log a request at DEBUG (api/requestid.py has set its id for every line before), once:
    there is no other access log. Called by the metrics middleware, which times every request
    anyway. Secrets in the query string are redacted (a token belongs in a header, but a
    client may still put one in the URL)."""
    if access.isEnabledFor(logging.DEBUG):
        route = request.match_info.route.resource
        query = request.rel_url.raw_query_string
        target = f"{request.path}?{redacted(query)}" if query else request.path
        access.debug(
            "%s %s %s", request.method, target, status,
            extra={"route": route.canonical if route else None, "method": request.method,
                   "status": status,
                   "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
        )  # fmt: skip
