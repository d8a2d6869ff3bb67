"""Where an agent's workers run: the :class:`Stepper` seam, and a thread each by default.

Playout, reporting, the inbox and media fetching are all written as
``step() -> seconds until due``. A real agent gives each its own thread
(:class:`ThreadStepper`): the clock thread never waits behind a slow download. The seam
exists so that a caller running many agents in one process can run their steps elsewhere
(the load harness in ``loadsim`` does); nothing here knows about such callers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

Step = Callable[[], float]
ERROR_RETRY_S = 1.0


def guarded(name: str, step: Step) -> float:
    """Run one step; a bug in one step is logged and retried, it never stops the runner."""
    try:
        return step()
    except Exception:
        log.exception("%s step failed", name)
        return ERROR_RETRY_S


class StepHandle(Protocol):
    """One attached worker: ``poke`` asks for a step now (any thread); ``detach`` ends it."""

    def poke(self) -> None: ...

    def alive(self) -> bool: ...

    def detach(self, timeout: float = 5.0) -> None: ...


class Stepper(Protocol):
    def attach(self, name: str, step: Step) -> StepHandle: ...


class _OwnThread:
    def __init__(self, name: str, step: Step) -> None:
        self._name = name
        self._step = step
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            delay = guarded(self._name, self._step)
            if delay > 0:
                self._wake.wait(delay)

    def poke(self) -> None:
        self._wake.set()

    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def detach(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)


class ThreadStepper:
    """The default: every attached worker gets a thread of its own."""

    def attach(self, name: str, step: Step) -> StepHandle:
        return _OwnThread(name, step)


class Runner:
    """A worker's side of its stepper: poke, alive and stop are safe before ``start``."""

    def __init__(self, name: str, step: Step) -> None:
        self.name = name
        self._step = step
        self._handle: StepHandle | None = None

    def start(self, stepper: Stepper | None = None) -> None:
        """Step on a thread of its own, or on a shared ``stepper``."""
        self._handle = (stepper or ThreadStepper()).attach(self.name, self._step)

    def poke(self) -> None:
        """Step soon (any thread); before ``start`` the first step comes anyway."""
        if self._handle is not None:
            self._handle.poke()

    def alive(self) -> bool:
        return self._handle is not None and self._handle.alive()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.detach()
