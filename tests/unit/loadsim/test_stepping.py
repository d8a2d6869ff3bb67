"""The two ways an agent's workers run: a thread each (the agent), or many on one shared
thread (the load harness's :class:`SharedStepper`), against the same contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from agent.stepping import ERROR_RETRY_S, Stepper, ThreadStepper
from loadsim.stepping import MAX_DEFER_S, SharedStepper
from tests.support.processes import wait_until


class Counter:
    """A worker that counts its steps and asks to be woken after ``delay`` seconds."""

    def __init__(self, delay: float = 3600.0) -> None:
        self.calls = 0
        self.delay = delay
        self.threads: set[str] = set()

    def step(self) -> float:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        return self.delay


@pytest.fixture(params=["own-thread", "shared"])
def stepper(request: pytest.FixtureRequest) -> Iterator[Stepper]:
    if request.param == "own-thread":
        yield ThreadStepper()
        return
    shared = SharedStepper("test-steps")
    shared.start()
    yield shared
    shared.stop()


def test_first_step_runs_at_once_then_only_when_poked(stepper: Stepper) -> None:
    worker = Counter()
    handle = stepper.attach("w", worker.step)
    wait_until(lambda: worker.calls == 1, 5, 0.005)
    handle.poke()
    wait_until(lambda: worker.calls == 2, 5, 0.005)
    assert handle.alive()
    handle.detach()
    assert not handle.alive()
    handle.poke()
    time.sleep(0.05)  # a detached worker is never stepped again
    assert worker.calls == 2


def test_a_failing_step_is_retried_not_fatal(stepper: Stepper) -> None:
    calls: list[float] = []

    def flaky() -> float:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("boom")
        return 3600.0

    handle = stepper.attach("flaky", flaky)
    wait_until(lambda: len(calls) == 2, ERROR_RETRY_S + 5, 0.01)
    assert calls[1] - calls[0] >= ERROR_RETRY_S * 0.9
    handle.detach()


def test_shared_stepper_runs_many_workers_on_one_thread_soonest_first() -> None:
    shared = SharedStepper("one-thread")
    order: list[str] = []

    def worker(name: str, delays: list[float]) -> Callable[[], float]:
        def step() -> float:
            order.append(name)
            return delays.pop(0) if delays else 3600.0

        return step

    shared.attach("slow", worker("slow", [0.3]))
    shared.attach("fast", worker("fast", [0.1]))
    shared.start()
    try:
        wait_until(lambda: len(order) == 4, 5, 0.005)
        assert order[:2] == ["slow", "fast"]  # both due at once: attachment order
        assert order[2:] == ["fast", "slow"]  # then by due time
    finally:
        shared.stop()


def test_a_poke_while_running_steps_again_right_after() -> None:
    shared = SharedStepper("poke-while-running")
    inside = threading.Event()
    release = threading.Event()
    calls = [0]

    def step() -> float:
        calls[0] += 1
        if calls[0] == 1:
            inside.set()
            release.wait(5)
        return 3600.0

    handle = shared.attach("w", step)
    shared.start()
    try:
        assert inside.wait(5)
        handle.poke()  # arrives while the first step is still running
        release.set()
        wait_until(lambda: calls[0] == 2, 5, 0.005)
    finally:
        shared.stop()


def test_shared_steps_wait_for_a_quiet_network_but_never_long() -> None:
    quiet = threading.Event()
    deadlines: list[float] = []

    def wait_quiet(until: float) -> None:
        deadlines.append(until - time.monotonic())
        quiet.wait(max(0.0, until - time.monotonic()))

    shared = SharedStepper("deferring", defer_to=wait_quiet)
    worker = Counter()
    began = time.monotonic()
    shared.attach("w", worker.step)
    shared.start()
    try:
        wait_until(lambda: worker.calls == 1, 5, 0.001)
        assert time.monotonic() - began >= MAX_DEFER_S * 0.9  # the network stayed busy
        assert max(deadlines) <= MAX_DEFER_S
        quiet.set()
        later = Counter()
        began = time.monotonic()
        shared.attach("v", later.step)
        wait_until(lambda: later.calls == 1, 5, 0.001)
        assert time.monotonic() - began < MAX_DEFER_S  # quiet: no waiting
    finally:
        shared.stop()
    assert worker.threads == {"deferring"}
