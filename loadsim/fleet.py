"""Many simulated agents in one process (null player), for load tests and demos.

Each simulated node is a full :class:`AgentRuntime` with its own data directory under
``<data_dir>/<node_id>``; only the sound is missing. The agents of one process share three
threads (:class:`SharedRunners`: one epoll network loop for every MQTT session, one for
playout and reporting steps, one for media fetches) instead of four threads each, through
the agent's :class:`agent.runtime.Runners` seam.
"""

from __future__ import annotations

import logging
import resource
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from agent.config import AgentSettings
from agent.runtime import AgentRuntime, Runners
from loadsim.heap import freeze_startup_heap
from loadsim.netloop import NetworkLoop
from loadsim.stepping import SharedStepper
from protocol.clock import Clock
from protocol.topics import check_slug

log = logging.getLogger(__name__)


CONNECT_WAIT_S = 300.0


def raise_descriptor_limit() -> int:
    """Lift this process's soft limit on open files to the hard one; return the new limit.

    Each simulated agent holds about eight descriptors and the network loop (epoll) has no
    limit of its own, so a few hundred agents need more than the usual soft 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def fleet_node_ids(count: int, prefix: str = "sim") -> list[str]:
    """``sim-001``, ``sim-002``, … (zero-padded to at least three digits)."""
    width = max(3, len(str(count)))
    return [check_slug(f"{prefix}-{n:0{width}d}") for n in range(1, count + 1)]


@dataclass(frozen=True)
class SharedRunners:
    """The three threads every agent of one simulated-fleet process shares."""

    network: NetworkLoop
    steps: SharedStepper
    fetches: SharedStepper

    @classmethod
    def create(cls) -> SharedRunners:
        network = NetworkLoop()
        return cls(network, SharedStepper("steps", network.wait_quiet), SharedStepper("fetches"))

    @property
    def runners(self) -> Runners:
        return Runners(steps=self.steps, fetches=self.fetches, network=self.network)

    def start(self) -> None:
        self.network.start()
        self.steps.start()
        self.fetches.start()

    def stop(self) -> None:
        self.network.stop()
        self.steps.stop()
        self.fetches.stop()


class Fleet:
    def __init__(
        self, base: AgentSettings, node_ids: Sequence[str], clock: Clock | None = None
    ) -> None:
        raise_descriptor_limit()
        self.shared = SharedRunners.create()
        self.agents = [
            AgentRuntime(
                base.model_copy(
                    update={
                        "node_id": node_id,
                        "data_dir": base.data_dir / node_id,
                        "player": "null",
                        "tap_file": None,
                    }
                ),
                clock,
                self.shared.runners,
            )
            for node_id in node_ids
        ]

    def start(self) -> None:
        self.shared.start()
        for agent in self.agents:
            agent.start()
        log.info("fleet of %d agents started", len(self.agents))

    def stop(self) -> None:
        for agent in self.agents:
            agent.stop()
        self.shared.stop()

    def run_forever(self) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.start()
        freeze_startup_heap()
        deadline = time.monotonic() + CONNECT_WAIT_S
        while not stop.wait(0.5) and time.monotonic() < deadline:
            if all(agent.session.connected.is_set() for agent in self.agents):
                freeze_startup_heap()  # and what the sessions built while connecting
                break
        try:
            stop.wait()
        finally:
            self.stop()
