"""A cap on the connections one worker holds open (MAX_CONNECTIONS).

gunicorn's ``worker_connections`` is not honoured by aiohttp's worker, and aiohttp itself
accepts every connection and keeps it until the client sends or the keep-alive ends. So the
runner gunicorn is given counts the open connections of its server: past the cap, a new one
is answered ``503`` with ``Retry-After`` straight away and closed, without reading anything,
and the connections already open keep being served.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

_BODY = json.dumps({
    "type": "urn:configsvc:problem:too-many-connections",
    "title": "Too many connections",
    "status": 503,
    "detail": "this worker holds as many connections as it may; retry",
}).encode()  # fmt: skip
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/problem+json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nServer: configsvc\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BODY), _BODY)
)


class CappedRunner(web.AppRunner):
    """An AppRunner whose server refuses connections past ``max_connections``."""

    def __init__(self, app: web.Application, max_connections: int, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.max_connections = max_connections
        self.refusing = False  # logged once per episode, not once per connection of a flood

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        admit = server.connection_made

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            admit(handler, transport)  # registered first, so that closing it unregisters it
            full = len(server.connections) > self.max_connections
            if full:
                transport.write(REFUSAL)
                # Not closed here: the handler's start() task is only scheduled after this
                # returns, and a connection lost before it runs fails aiohttp's assertion
                # (an ERROR traceback per refused connection). Two turns of the loop later,
                # the task waits for a request and a close ends it the ordinary way.
                loop = asyncio.get_running_loop()
                loop.call_soon(loop.call_soon, transport.close)
            if full and not self.refusing:
                log.warning("%d connections open: refusing more", self.max_connections)
            self.refusing = full

        # The server calls this for every accepted connection, before reading from it.
        setattr(server, "connection_made", connection_made)  # noqa: B010
        return server
