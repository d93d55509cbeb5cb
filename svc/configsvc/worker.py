"""The gunicorn worker class: aiohttp's uvloop worker, handed the plain listening sockets."""

from __future__ import annotations

from typing import Any

from aiohttp import worker


class Worker(worker.GunicornUVLoopWebWorker):
    """``aiohttp.GunicornUVLoopWebWorker`` with gunicorn's socket wrappers unwrapped.

    uvloop owns the file descriptor of a socket it serves: when the server closes, it detaches
    a ``socket.socket`` but merely calls ``close()`` on anything else. Given gunicorn's
    wrapper, that close ran after libuv had already closed the descriptor, logging
    ``Error while closing socket [Errno 9] Bad file descriptor`` at every shutdown (and
    closing a descriptor number twice may close whatever reused it meanwhile).
    """

    def init_process(self) -> None:
        wrapped: list[Any] = self.sockets  # type: ignore[has-type]
        self.sockets = [getattr(sock, "sock", sock) for sock in wrapped]
        super().init_process()
