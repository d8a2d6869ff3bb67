"""``loa bench agent-idle``: what one idle agent costs a Pi (memory, CPU, wake-ups, SD writes).

A private Mosquitto and an in-process controller (``loadsim.bench._support.bench_env``); one
real ``python -m agent`` process at default settings (only what it needs to connect is set:
node id, data dir, broker port, trusted key). It gets the controller's signed playlist, comes
online, then is left alone for ``--seconds`` (default 10 minutes) while this process reads
``/proc``:

- ``rss_mb``: VmRSS at the end (``peak_rss_mb``: VmHWM);
- ``cpu_pct``: utime+stime delta (``/proc/<pid>/stat``) over wall time, % of one core;
- ``wakeups_per_s``: voluntary + involuntary context switches summed over every thread
  (per thread id: a thread that ends between the samples takes its count with it, so only
  the threads alive at the end are counted, never a negative delta)
  (``/proc/<pid>/task/*/status``): each is one time the agent was scheduled in;
- ``disk_writes_mb_per_day``: ``write_bytes`` delta (``/proc/<pid>/io``, bytes that reached
  the block layer, i.e. the SD card) extrapolated to a day; the data dir is on disk, not tmpfs.

The default player is the persistent mpv, which waits in its own process: its figures are
reported apart under ``player`` (it is not part of the agent's budget, but is on the Pi).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadsim.bench._report import BenchError, add_json_flag, emit
from loadsim.bench._support import bench_env, online_count, wait_for

TARGETS = {"rss_mb": 60.0, "cpu_pct": 2.0, "disk_writes_mb_per_day": 5.0}
NODE = "idle-1"
ZONE = "idle"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("agent-idle", help="one idle agent: RSS, CPU, wake-ups, writes")
    add_json_flag(parser)
    parser.add_argument("--seconds", type=float, default=600.0, help="measuring time")
    parser.set_defaults(handler=run)


@dataclass(frozen=True)
class Sample:
    at: float
    cpu_ticks: int
    switches: dict[int, int]  # thread id -> context switches so far
    write_bytes: int


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def _switches(pid: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "status").read_text()
        except OSError:
            continue  # a thread that just ended
        for line in text.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                counts[int(task.name)] = counts.get(int(task.name), 0) + int(line.split()[1])
    return counts


def _write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _status_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def sample(pid: int) -> Sample:
    return Sample(time.time(), _cpu_ticks(pid), _switches(pid), _write_bytes(pid))


def figures(pid: int, first: Sample, last: Sample) -> dict[str, float]:
    elapsed = max(last.at - first.at, 1e-6)
    ticks = os.sysconf("SC_CLK_TCK")
    writes = last.write_bytes - first.write_bytes
    return {
        "rss_mb": _status_mb(pid, "VmRSS"),
        "peak_rss_mb": _status_mb(pid, "VmHWM"),
        "cpu_pct": round((last.cpu_ticks - first.cpu_ticks) / ticks / elapsed * 100, 3),
        "wakeups_per_s": round(
            sum(n - first.switches.get(tid, 0) for tid, n in last.switches.items()) / elapsed, 2
        ),
        "disk_writes_mb_per_day": round(writes / elapsed * 86400 / 1e6, 3),
    }


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def measure(root: Path, seconds: float) -> dict[str, Any]:

    with bench_env(ZONE, [NODE]) as env:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
        environ.update(
            {
                "LOA_NODE_ID": NODE,
                "LOA_ZONES": json.dumps([ZONE]),
                "LOA_DATA_DIR": str(root / "agent"),
                "LOA_MQTT_PORT": str(env.broker.port),
                "LOA_CONTROLLER_URL": "http://127.0.0.1:9",  # no media to fetch
                "LOA_TRUSTED_KEYS": json.dumps([env.ctl.signer.public_key_b64]),
            }
        )
        log = (root / "agent.log").open("wb")
        agent = subprocess.Popen(
            [sys.executable, "-m", "agent"], env=environ, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            env.ctl.publisher.refresh()
            if not wait_for(lambda: online_count(env) >= 1 or agent.poll() is not None, 60):
                raise BenchError("the agent did not come online")
            if agent.poll() is not None:
                tail = (root / "agent.log").read_text(errors="replace")[-2000:]
                raise BenchError(f"the agent exited:\n{tail}")
            wait_for(lambda: (root / "agent" / "playlist.signed.json").exists(), 30)
            time.sleep(min(5.0, seconds / 4))  # start-up writes and the first heartbeat
            players = _children(agent.pid)
            first = sample(agent.pid)
            player_first = {p: sample(p) for p in players}
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if agent.poll() is not None:
                    raise BenchError("the agent exited while idle")
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            last = sample(agent.pid)
            out: dict[str, Any] = {"seconds": round(last.at - first.at, 1)}
            out.update(figures(agent.pid, first, last))
            out["player"] = [
                {"pid": p, **figures(p, s, sample(p))}
                for p, s in player_first.items()
                if Path(f"/proc/{p}").exists()
            ]
        finally:
            agent.terminate()
            try:
                agent.wait(20)
            except subprocess.TimeoutExpired:
                agent.kill()
            log.close()
    out["targets"] = TARGETS
    out["ok"] = all(out[k] < v for k, v in TARGETS.items())
    return out


def run(args: argparse.Namespace) -> int:
    if args.seconds <= 0:
        raise BenchError("--seconds must be positive")
    # on disk (not tmpfs): write_bytes only counts what reaches a block device
    base = Path(os.environ.get("LOA_BENCH_DIR", Path.cwd() / "var"))
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loa-bench-idle-", dir=base) as tmp:
        out = measure(Path(tmp), args.seconds)
    emit(out, args.json)
    return 0
