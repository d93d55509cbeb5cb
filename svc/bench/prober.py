"""The second client of a measurement: a REST GET every 10 ms, timed, on its own thread."""

from __future__ import annotations

import contextlib
import http.client
import os
import threading
import time

INTERVAL_S = 0.01


class Prober(threading.Thread):
    """The second client: a GET of ``path`` every 10 ms on one keep-alive connection."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(name="rest-prober", daemon=True)
        self.port, self.path = port, path
        self.latencies_ms: list[float] = []
        self.errors = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        # Ahead of the holders on the load CPU (root only): it must time the service, not
        # its own wait for that CPU while the holders read a fan-out.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stopping.wait(INTERVAL_S):
            t0 = time.perf_counter()
            try:
                conn.request("GET", self.path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            if ok:
                self.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                self.errors += 1
        conn.close()
