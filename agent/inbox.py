"""Messages from the broker, handed from the network thread to a worker.

The network thread only reads sockets, stamps each message with its arrival time and queues
it; verifying signatures, writing the replay guard and touching SQLite happen on the
inbox's worker. A big playlist (hundreds of items to validate) therefore never delays
keepalives or the next command. A command's acknowledgement carries its arrival time (as
the protocol defines it), so the hand-over does not change what the controller measures.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from datetime import datetime

from agent.stepping import Runner, Stepper
from protocol.clock import Clock

log = logging.getLogger(__name__)

Handler = Callable[[bytes, datetime], None]
IDLE_S = 3600.0  # nothing queued: sleep until poked


class Inbox:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._queue: queue.SimpleQueue[tuple[Handler, bytes, datetime]] = queue.SimpleQueue()
        self._runner = Runner("inbox", self.step)

    def route(self, handler: Handler) -> Callable[[bytes], None]:
        """A network-thread callback that queues the payload for ``handler``."""

        def deliver(raw: bytes) -> None:
            self._queue.put((handler, raw, self.clock.now()))
            self._runner.poke()

        return deliver

    def step(self) -> float:
        """Handle everything queued, in arrival order; one bad message never blocks the rest."""
        while True:
            try:
                handler, raw, arrived = self._queue.get_nowait()
            except queue.Empty:
                return IDLE_S
            try:
                handler(raw, arrived)
            except Exception:
                log.exception("inbox handler failed")

    def start(self, stepper: Stepper | None = None) -> None:
        self._runner.start(stepper)

    def stop(self) -> None:
        self._runner.stop()
