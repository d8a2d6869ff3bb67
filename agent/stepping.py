"""Where an agent's workers run: each on its own thread, or many on one shared thread.

Playout, reporting and media fetching are all written as ``step() -> seconds until due``.
A real agent gives each its own thread (:class:`ThreadStepper`): the clock thread never
waits behind a slow download. A simulated fleet of hundreds of agents in one process runs
all their steps on one :class:`SharedStepper` thread instead: a thousand agents with four
threads each spend a 2-core machine on switching threads and fighting for the GIL, not on
the agents' work (measured: 60-75 % system time during a fleet-wide command).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
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


class _Shared:
    """A worker's place on a :class:`SharedStepper` (all fields guarded by its condition)."""

    def __init__(self, owner: SharedStepper, name: str, step: Step) -> None:
        self.owner = owner
        self.name = name
        self.step = step
        self.due = 0.0
        self.generation = 0
        self.running = False
        self.poked_while_running = False
        self.detached = False

    def poke(self) -> None:
        self.owner._poke(self)

    def alive(self) -> bool:
        return self.owner.alive() and not self.detached

    def detach(self, timeout: float = 5.0) -> None:
        self.owner._detach(self, timeout)


MAX_DEFER_S = 0.25

#: Blocks until the network has been quiet for a moment, or until the given monotonic time.
QuietWait = Callable[[float], None]


class SharedStepper:
    """One thread runs the steps of many workers, soonest due first.

    ``defer_to``: waits until the network is quiet (``NetworkLoop.wait_quiet``). Before each
    step the stepper calls it, bounded by ``MAX_DEFER_S`` per batch of due steps, so a
    message arriving for hundreds of agents is read from every socket before the agents
    start acting on it, and steps still progress under constant traffic. In a simulated
    fleet the agents share 2 cores with each other and the broker, where real ones each
    have their own: acting first would delay the other agents' receipt, which real
    agents never do to each other.
    """

    def __init__(self, name: str = "steps", defer_to: QuietWait | None = None) -> None:
        self.name = name
        self._defer_to = defer_to
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, int, _Shared]] = []
        self._order = itertools.count()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def attach(self, name: str, step: Step) -> StepHandle:
        entry = _Shared(self, name, step)
        with self._cond:
            self._schedule(entry, time.monotonic())
            self._cond.notify_all()
        return entry

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopped

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # -- guarded by self._cond -----------------------------------------------------------
    def _schedule(self, entry: _Shared, due: float) -> None:
        entry.generation += 1
        entry.due = due
        heapq.heappush(self._heap, (due, next(self._order), entry.generation, entry))

    def _poke(self, entry: _Shared) -> None:
        with self._cond:
            if entry.detached:
                return
            if entry.running:
                entry.poked_while_running = True
                return
            now = time.monotonic()
            if entry.due > now:
                self._schedule(entry, now)
                self._cond.notify_all()

    def _detach(self, entry: _Shared, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            entry.detached = True
            if threading.current_thread() is self._thread:
                return
            while entry.running and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)

    def _due_batch(self) -> list[_Shared]:
        """Pop every entry that is due, waiting until one is; empty when stopped."""
        while not self._stopped:
            batch: list[_Shared] = []
            now = time.monotonic()
            while self._heap:
                due, _, generation, entry = self._heap[0]
                if generation != entry.generation or entry.detached:
                    heapq.heappop(self._heap)  # superseded by a later schedule
                elif due <= now:
                    heapq.heappop(self._heap)
                    batch.append(entry)
                else:
                    break
            if batch:
                return batch
            self._cond.wait(self._heap[0][0] - now if self._heap else None)
        return []

    def _defer(self, until: float) -> None:
        """Let the network thread read first (bounded per batch: see the class docstring)."""
        if self._defer_to is not None:
            self._defer_to(until)

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._due_batch()
                if not batch:
                    return
                for entry in batch:
                    entry.running = True
                    entry.poked_while_running = False
            defer_until = time.monotonic() + MAX_DEFER_S
            for entry in batch:
                self._defer(defer_until)
                delay = guarded(entry.name, entry.step) if not entry.detached else 0.0
                with self._cond:
                    entry.running = False
                    if not entry.detached:
                        now = time.monotonic()
                        due = now if entry.poked_while_running else now + delay
                        self._schedule(entry, due)
                    self._cond.notify_all()
