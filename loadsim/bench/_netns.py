"""A slow, lossy link into a private network namespace: a village SIM on the edge of coverage.

Underscore module: not a benchmark itself (discovery skips it). Needs root and iproute2.

The link is a pair of TUN devices (``lfh<n>`` on this host, ``lfa<n>`` moved into the
namespace ``loa-field-<n>``) joined by a forwarder thread that does what ``tc netem rate
100kbit delay 150ms loss 1%`` on both ends of a veth pair would do: each direction is
serialised at ``rate`` (a packet waits for the one before it), delayed by ``delay_ms`` and
dropped with probability ``loss_pct``. A userspace forwarder rather than netem because many
kernels (this machine's included) ship without ``sch_netem``; it is the same model, and the
TCP stacks on both sides are the kernel's own. :meth:`SlowLink.wire_bytes` counts every IP
packet that entered the link in either direction (IP + TCP headers included; no Ethernet
header, as on a cellular link; lost packets count, the SIM sent them).

Only the devices this module creates are touched, never the host's loopback or other
interfaces; the namespace and both devices are removed on exit, also after an error.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import random
import select
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from loadsim.bench._report import BenchError
from loadsim.bench._wire import SNAP, Packet

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


@dataclass(frozen=True)
class LinkShape:
    """Each direction gets ``delay_ms``, so the RTT is twice that."""

    rate_bps: int = 100_000
    delay_ms: int = 150
    loss_pct: float = 1.0

    def describe(self) -> str:
        return (
            f"{self.rate_bps // 1000} kbit/s, {self.delay_ms} ms and {self.loss_pct}% loss each"
            f" way ({2 * self.delay_ms} ms RTT)"
        )


def _run(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}")


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


class _Direction:
    """One way of the link: serialisation at the rate, then the delay, and random loss."""

    def __init__(self, shape: LinkShape, rng: random.Random) -> None:
        self.shape = shape
        self.rng = rng
        self.free_at = 0.0  # when the sender's radio is free again
        self.bytes = 0
        self.lost = 0

    def admit(self, now: float, size: int) -> float | None:
        """When a packet of ``size`` bytes offered at ``now`` arrives; None if lost."""
        self.bytes += size
        self.free_at = max(now, self.free_at) + size * 8 / self.shape.rate_bps
        if self.rng.random() * 100 < self.shape.loss_pct:
            self.lost += 1
            return None
        return self.free_at + self.shape.delay_ms / 1000


class SlowLink:
    """``with SlowLink() as link:`` — the namespace ``link.ns`` reaches this host at
    ``link.host_ip`` through the shaped link."""

    def __init__(
        self, shape: LinkShape | None = None, tag: int | None = None, trace: bool = False
    ) -> None:
        self.shape = shape or LinkShape()
        # trace: keep every packet's head (loadsim.bench._wire names them for the breakdown)
        self.trace: list[Packet] | None = [] if trace else None
        n = (tag if tag is not None else os.getpid()) % 60000
        self.ns = f"loa-field-{n}"
        self.host_if = f"lfh{n}"
        self.ns_if = f"lfa{n}"
        self.host_ip = f"10.{200 + n % 50}.{(n // 50) % 256}.1"
        self.ns_ip = self.host_ip[: -len("1")] + "2"
        self._made = False
        self._fds: list[int] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        rng = random.Random(n)  # link loss, not security
        self._up = _Direction(self.shape, rng)  # node -> host
        self._down = _Direction(self.shape, rng)  # host -> node

    @staticmethod
    def available() -> str | None:
        """Why this machine cannot make the link (None when it can)."""
        if os.geteuid() != 0:
            return "needs root for ip netns and TUN devices"
        if shutil.which("ip") is None:
            return "`ip` (iproute2) is not installed"
        if not Path("/dev/net/tun").exists():
            return "no /dev/net/tun"
        return None

    def __enter__(self) -> SlowLink:
        why = self.available()
        if why is not None:
            raise BenchError(why)
        self._made = True
        try:
            self._build()
        except BaseException:
            self._teardown()
            raise
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._teardown()

    def _build(self) -> None:
        inside = ("ip", "netns", "exec", self.ns)
        _run("ip", "netns", "add", self.ns)
        for name in (self.host_if, self.ns_if):
            _run("ip", "tuntap", "add", "dev", name, "mode", "tun")
            self._fds.append(_open_tun(name))
        _run("ip", "link", "set", self.ns_if, "netns", self.ns)  # the open fd stays attached
        # no IPv6 on either end: the kernel's router solicitations are not node traffic
        Path(f"/proc/sys/net/ipv6/conf/{self.host_if}/disable_ipv6").write_text("1")
        _run(*inside, "sysctl", "-qw", f"net.ipv6.conf.{self.ns_if}.disable_ipv6=1")
        _run("ip", "addr", "add", self.host_ip, "peer", self.ns_ip, "dev", self.host_if)
        # no multicast: the kernel's IGMP reports on a fresh interface are not node traffic
        _run("ip", "link", "set", self.host_if, "multicast", "off", "up")
        _run(*inside, "ip", "addr", "add", self.ns_ip, "peer", self.host_ip, "dev", self.ns_if)
        _run(*inside, "ip", "link", "set", self.ns_if, "multicast", "off", "up")
        _run(*inside, "ip", "link", "set", "lo", "up")
        self._thread = threading.Thread(target=self._forward, name="slow-link", daemon=True)
        self._thread.start()

    def _forward(self) -> None:
        host_fd, ns_fd = self._fds
        way = {host_fd: (self._down, ns_fd), ns_fd: (self._up, host_fd)}
        due: list[tuple[float, int, int, bytes]] = []  # (arrival, order, out fd, packet)
        order = 0
        while not self._stop.is_set():
            wait = 0.05 if not due else max(0.0, min(0.05, due[0][0] - time.monotonic()))
            readable, _, _ = select.select([host_fd, ns_fd], [], [], wait)
            now = time.monotonic()
            for fd in readable:
                with contextlib.suppress(OSError):
                    packet = os.read(fd, 65535)
                    direction, out = way[fd]
                    if self.trace is not None:
                        name = "up" if direction is self._up else "down"
                        self.trace.append(Packet(now, name, len(packet), packet[:SNAP]))
                    arrival = direction.admit(now, len(packet))
                    if arrival is not None:
                        order += 1
                        heapq.heappush(due, (arrival, order, out, packet))
            while due and due[0][0] <= time.monotonic():
                _, _, out, packet = heapq.heappop(due)
                with contextlib.suppress(OSError):
                    os.write(out, packet)

    def _teardown(self) -> None:
        if not self._made:
            return
        self._made = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        # deleting the namespace deletes the device inside it; the host one goes with its fd
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)
        for name in (self.host_if, self.ns_if):
            if Path(f"/sys/class/net/{name}").exists():
                subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)

    def sysctl(self, name: str, value: str) -> None:
        """Set a kernel setting of the namespace only (net.ipv4.* are per namespace): what
        the agent installer sets on a node, never the host's."""
        _run(*self.exec_prefix(), "sysctl", "-qw", f"{name}={value}")

    def exec_prefix(self) -> list[str]:
        """Prefix a command line with this to run it inside the namespace."""
        return ["ip", "netns", "exec", self.ns]

    def wire_bytes(self) -> int:
        """Bytes that entered the link so far, both directions, IP headers included."""
        return self._up.bytes + self._down.bytes

    def traced(self, since: float, until: float) -> list[Packet]:
        """The packets that entered the link in ``[since, until)`` (monotonic; needs trace)."""
        return [p for p in self.trace or [] if since <= p.at < until]

    def lost_packets(self) -> int:
        return self._up.lost + self._down.lost
