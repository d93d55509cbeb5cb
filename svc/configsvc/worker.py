"""The gunicorn worker class: aiohttp's uvloop worker, handed the plain listening sockets."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from aiohttp import worker

# uvloop reads signals only while its loop runs: a stop signal that arrived while the worker
# was still importing the app was lost, and the worker went on serving until the master's
# graceful timeout killed it. Such a signal is held pending until the loop runs instead.
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


class Worker(worker.GunicornUVLoopWebWorker):
    """``aiohttp.GunicornUVLoopWebWorker`` with gunicorn's socket wrappers unwrapped.

    uvloop owns the file descriptor of a socket it serves: when the server closes, it detaches
    a ``socket.socket`` but merely calls ``close()`` on anything else. Given gunicorn's
    wrapper, that close ran after libuv had already closed the descriptor, logging
    ``Error while closing socket [Errno 9] Bad file descriptor`` at every shutdown (and
    closing a descriptor number twice may close whatever reused it meanwhile).

    aiohttp's ``SockSite`` starts serving with ``listen(128)``, which shrinks the backlog the
    socket was bound with: when every subscriber of a fleet reconnects at once (a deploy, a
    failover) the kernel then drops most of their SYNs, and each waits a second or more to
    retry. Once the sites are up, the sockets get gunicorn's ``backlog`` (2048) back.
    """

    _relistened = False

    def notify(self) -> None:
        # The first heartbeat after boot (aiohttp's serve loop) comes after SockSite.start.
        if self.booted and not self._relistened:
            self._relistened = True
            for sock in self.sockets:  # type: ignore[has-type]
                sock.listen(self.cfg.backlog)
        super().notify()

    def init_process(self) -> None:
        wrapped: list[Any] = self.sockets  # type: ignore[has-type]
        self.sockets = [getattr(sock, "sock", sock) for sock in wrapped]
        super().init_process()

    def init_signals(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        if _stop_queued():
            self.alive = False
        super().init_signals()

    async def _run(self) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        await super()._run()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM: begin the graceful shutdown now, not at the next once-a-second check."""
        super().handle_exit(sig, frame)
        self._notify_waiter_done()


def _stop_queued() -> bool:
    """Whether a stop signal came before the worker's own handlers, into the master's queue.

    Until ``init_signals`` the forked worker still has the master's handlers, which only queue
    what arrives (``Arbiter.SIG_QUEUE``); nothing reads that copy of the queue in a worker.
    Another handler may wrap the master's for one signal (coverage's, for SIGTERM, passes the
    signal on to it), so the queue is looked for behind each of them.
    """
    owners = [getattr(signal.getsignal(sig), "__self__", None) for sig in _STOP_SIGNALS]
    queues = [getattr(owner, "SIG_QUEUE", None) for owner in owners]
    pending = next((queue for queue in queues if queue is not None), None)
    found = False
    while pending is not None and not pending.empty():
        found |= pending.get_nowait() in _STOP_SIGNALS
    return found
