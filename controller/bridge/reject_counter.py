"""Counts and logs every refused MQTT payload, by topic kind and error kind."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from protocol.errors import ProtocolError

log = logging.getLogger(__name__)


class RejectCounter:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def reject(self, topic: str, kind: str, error: ProtocolError) -> None:
        with self._lock:
            self._counts[f"{kind}:{error.kind}"] += 1
        log.warning("rejected message on %s: %s", topic[:200], error.reason)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())
