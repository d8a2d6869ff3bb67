"""Bare paho subscribers, no project code: the same-run baseline of the fleet benchmarks.

Two ways to run N bare clients, both sharded over processes like the simulated fleet:

* ``epoll`` — the simulated fleet's own layout (500 per process, one thread driving every
  client through paho's external-loop API on one selector), so project p99 / this p99 is
  what the project's code adds on top of the same harness.
* ``threads`` — paho as its documentation runs it, ``loop_start()`` (a thread per client),
  300 per process because that loop's ``select()`` stops at descriptor 1024.

Each shard writes ``<out>.ready`` once all its clients are subscribed, then the receive
latencies (ms) of ``rounds`` messages to ``<out>`` as one list per round. A message is
either a bare ``<round>:<time>`` or a signed product command whose item id ends in
``-<round>`` (latency from its ``issued_at``): the same light subscribers then measure the
product's path (controller → signed command → broker) and the bare one, so their ratio is
the controller's and the protocol's overhead alone (``extra_topics``).

:class:`BareFleet` keeps the clients connected between rounds, so a benchmark can interleave
baseline rounds with its own (same minute, same machine load); :func:`measure` runs the
rounds back to back.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import selectors
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from loadsim.bench._report import BenchError

Mode = Literal["epoll", "threads"]
PER_PROCESS: dict[Mode, int] = {"epoll": 500, "threads": 300}
SUBSCRIBE_TIMEOUT_S = 120.0
RECEIVE_TIMEOUT_S = 60.0
ROUND_BUDGET_S = 30.0  # per round, for benchmarks that run their own rounds in between
ROUND_GAP_S = 2.0


def _client(client_id: str, topics: list[str]) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.on_connect = lambda cl, *_a: cl.subscribe([(t, 1) for t in topics])
    return c


def _stamp(rounds: list[list[float]], payload: bytes | bytearray) -> None:
    now = time.time()
    if payload[:1] == b"{":  # a signed command: {"key_id", "sig", "payload": {...}}
        command = json.loads(payload)["payload"]
        index = int(command["item"]["id"].rpartition("-")[2])
        sent = datetime.fromisoformat(command["issued_at"]).timestamp()
    else:
        round_text, _, sent_text = payload.decode().partition(":")
        index, sent = int(round_text), float(sent_text)
    if 0 <= index < len(rounds):
        rounds[index].append((now - sent) * 1000)


def _finish(out: str, rounds: list[list[float]], count: int, step: Any) -> None:
    """Wait (calling ``step``) for ``count`` latencies per round or the timeout; write them."""
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S + ROUND_BUDGET_S * len(rounds)
    while time.monotonic() < deadline and any(len(r) < count for r in rounds):
        step()
    Path(out).write_text(json.dumps(rounds))


def _epoll_shard(
    port: int, first: int, count: int, topics: list[str], out: str, rounds: int
) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    selector = selectors.DefaultSelector()
    latencies: list[list[float]] = [[] for _ in range(rounds)]
    subscribed: list[int] = []
    clients = []
    read, both = selectors.EVENT_READ, selectors.EVENT_READ | selectors.EVENT_WRITE

    def opened(client: mqtt.Client, _u: Any, sock: Any) -> None:
        selector.register(sock, read, client)

    def closed(_c: mqtt.Client, _u: Any, sock: Any) -> None:
        selector.unregister(sock)

    def want_write(client: mqtt.Client, _u: Any, sock: Any) -> None:
        selector.modify(sock, both, client)

    def written(client: mqtt.Client, _u: Any, sock: Any) -> None:
        selector.modify(sock, read, client)

    for i in range(first, first + count):
        c = _client(f"bare-{i}", topics)
        c.on_socket_open = opened
        c.on_socket_close = closed
        c.on_socket_register_write = want_write
        c.on_socket_unregister_write = written
        c.on_message = lambda _c, _u, m: _stamp(latencies, m.payload)
        c.on_subscribe = lambda *_a: subscribed.append(1)
        c.connect("127.0.0.1", port, keepalive=300)
        clients.append(c)
    next_misc = time.monotonic() + 1.0

    def step() -> None:
        nonlocal next_misc
        for key, mask in selector.select(0.2):
            if mask & selectors.EVENT_READ:
                key.data.loop_read()
            if mask & selectors.EVENT_WRITE:
                key.data.loop_write()
        if time.monotonic() >= next_misc:
            for c in clients:
                c.loop_misc()
            next_misc = time.monotonic() + 1.0

    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
    while time.monotonic() < deadline and len(subscribed) < count:
        step()
    Path(out + ".ready").write_text(str(len(subscribed)))
    _finish(out, latencies, len(subscribed), step)


def _threads_shard(
    port: int, first: int, count: int, topics: list[str], out: str, rounds: int
) -> None:
    latencies: list[list[float]] = [[] for _ in range(rounds)]
    lock = threading.Lock()
    subscribed = threading.Semaphore(0)
    clients = []

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        with lock:
            _stamp(latencies, msg.payload)

    for i in range(first, first + count):
        c = _client(f"bare-{i}", topics)
        c.on_message = on_message
        c.on_subscribe = lambda *_a: subscribed.release()
        c.connect_async("127.0.0.1", port, keepalive=300)
        c.loop_start()
        clients.append(c)
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
    ready = 0
    while ready < count and subscribed.acquire(timeout=max(0.0, deadline - time.monotonic())):
        ready += 1
    Path(out + ".ready").write_text(str(ready))
    _finish(out, latencies, ready, lambda: time.sleep(0.05))
    for c in clients:
        c.disconnect()
        c.loop_stop()


class BareFleet:
    """``n`` bare subscribers run as ``mode``, connected for ``rounds`` QoS 1 publishes.

    ``with BareFleet(...) as bare: bare.publish_round(0) ...``; ``results()`` afterwards
    gives the receive latencies (ms), one list per round.
    """

    def __init__(
        self,
        port: int,
        workdir: Path,
        n: int,
        mode: Mode,
        rounds: int,
        extra_topics: tuple[str, ...] = (),
    ) -> None:
        self.port, self.workdir, self.n, self.mode, self.rounds = port, workdir, n, mode, rounds
        self.topic = f"bench/bare/{mode}"
        self.topics = [self.topic, *extra_topics]
        self._shards: list[tuple[Any, str]] = []
        self._pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def __enter__(self) -> BareFleet:
        target = _epoll_shard if self.mode == "epoll" else _threads_shard
        ctx = multiprocessing.get_context("spawn")
        size = PER_PROCESS[self.mode]
        for first in range(0, self.n, size):
            out = str(self.workdir / f"bare-{self.mode}-{first}.json")
            for stale in (Path(out), Path(out + ".ready")):
                stale.unlink(missing_ok=True)
            count = min(size, self.n - first)
            proc = ctx.Process(
                target=target, args=(self.port, first, count, self.topics, out, self.rounds)
            )
            proc.start()
            self._shards.append((proc, out))
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S + 30
        while not all(Path(o + ".ready").exists() or not p.is_alive() for p, o in self._shards):
            if time.monotonic() > deadline:
                self._kill()
                raise BenchError(f"the bare {self.mode} baseline did not subscribe in time")
            time.sleep(0.05)
        self._pub.connect("127.0.0.1", self.port)
        self._pub.loop_start()
        return self

    def publish_round(self, index: int) -> None:
        payload = f"{index}:{time.time()}".encode()
        self._pub.publish(self.topic, payload, qos=1).wait_for_publish(10)

    def __exit__(self, *exc: object) -> None:
        try:
            for proc, _ in self._shards:
                proc.join(RECEIVE_TIMEOUT_S + 30 if exc[0] is None else 0)
        finally:
            self._kill()
            self._pub.disconnect()
            self._pub.loop_stop()

    def _kill(self) -> None:
        for proc, _ in self._shards:
            if proc.is_alive():
                proc.kill()

    def results(self) -> list[list[float]]:
        per_round: list[list[float]] = [[] for _ in range(self.rounds)]
        for _, out in self._shards:
            if Path(out).exists():
                for index, values in enumerate(json.loads(Path(out).read_text())):
                    per_round[index] += values
        return per_round


def measure(port: int, workdir: Path, n: int, mode: Mode, rounds: int = 1) -> list[list[float]]:
    """Receive latencies (ms) of ``rounds`` publishes (``ROUND_GAP_S`` apart) to ``n`` bare
    subscribers run as ``mode``: one list per round."""
    with BareFleet(port, workdir, n, mode, rounds) as bare:
        for index in range(rounds):
            if index:
                time.sleep(ROUND_GAP_S)
            bare.publish_round(index)
    return bare.results()
