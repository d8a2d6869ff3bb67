"""Many agents' steps on one thread: the load harness's :class:`SharedStepper`.

A simulated fleet of hundreds of agents in one process runs all their steps on one thread
instead of a thread per worker: a thousand agents with four threads each spend a 2-core
machine on switching threads and fighting for the GIL, not on the agents' work (measured:
60-75 % system time during a fleet-wide command). It implements the agent's
:class:`agent.stepping.Stepper` seam; real agents never use it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from agent.stepping import Step, StepHandle, guarded


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
