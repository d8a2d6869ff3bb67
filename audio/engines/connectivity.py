"""Is an online TTS host reachable? Asked once a minute, answered within a second.

Offline communes must not wait for DNS or TCP timeouts on every notice: the answer is
remembered for ``ttl_s`` and the check runs in a daemon thread with a hard deadline
(``getaddrinfo`` itself cannot be given a timeout).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class ConnectivityProbe:
    def __init__(
        self,
        host: str,
        port: int = 443,
        timeout_s: float = 1.0,
        ttl_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._checked_at: float | None = None
        self._reason: str | None = None
        self._lock = threading.Lock()

    def unreachable_reason(self) -> str | None:
        """None if the host answered a TCP connect recently, else why not."""
        with self._lock:
            now = self._monotonic()
            if self._checked_at is None or now - self._checked_at >= self.ttl_s:
                self._reason = self._check()
                self._checked_at = self._monotonic()
            return self._reason

    def mark_down(self, reason: str) -> None:
        """An engine just failed against this host: stop trying it until the TTL runs out."""
        with self._lock:
            self._reason = reason
            self._checked_at = self._monotonic()

    def _check(self) -> str | None:
        result: list[str | None] = []

        def connect() -> None:
            try:
                socket.create_connection((self.host, self.port), timeout=self.timeout_s).close()
                result.append(None)
            except OSError as exc:
                result.append(f"{self.host}:{self.port} unreachable ({exc})")

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(self.timeout_s + 0.2)
        if not result:
            return f"{self.host}:{self.port} did not answer within {self.timeout_s} s"
        return result[0]
