"""``loa bench emergency``: from issuing an emergency to every simulated agent *playing* it.

Project path: ``issue_emergency`` stores the emergency and publishes one signed EMERGENCY
command on the zone topic; every agent (the real ``AgentRuntime`` with the null player, run
as ``loa agent --simulate N`` in separate processes) verifies it, preempts, starts the
pre-cached evacuation notice and records ``started``. Latency = the event's ``at`` minus
the emergency's ``issued_at`` (one machine, one clock). The notice is copied into every
agent's cache first, as the issue requires ("an emergency never waits for a download").

The simulated agents keep their data on tmpfs by default: each real agent fsyncs its own
SD card a few times per emergency, in parallel with every other village, but a thousand
agents on one machine would queue those fsyncs on one disk and measure the disk, not the
system (``--fleet-disk`` does exactly that; ``fsync_ms`` is reported either way).

Baseline, same run: the same one-publish fan-out to N bare paho subscribers (no project
code), latency measured at receipt; ``ratio_p99`` = project p99 / baseline p99.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.errors import CliError

if TYPE_CHECKING:
    from cli.benchmarks.support import BenchEnv

ZONE = "xa-khan-cap"
PREFIX = "emg"
BARE_PER_PROCESS = 300  # a paho client holds 3 fds and its select() loop stops at fd 1024
NOTICE = (
    "Thông báo khẩn cấp. Nước lũ đang lên nhanh. Đề nghị bà con các thôn ven sông "
    "di dời ngay người và tài sản lên nơi cao, theo hướng dẫn của chính quyền xã."
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "emergency", help="emergency issue → every agent playing, vs bare paho fan-out"
    )
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    parser.add_argument(
        "--fleet-disk",
        action="store_true",
        help="keep the simulated agents' data on disk (default: tmpfs, see below)",
    )
    parser.set_defaults(handler=run)


def fsync_ms(directory: Path, rounds: int = 50) -> float:
    """Mean cost of one small write + fsync in ``directory`` (each agent does a few per
    emergency: its command log and its durable outbox)."""
    probe = directory / "fsync-probe"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        began = time.perf_counter()
        for _ in range(rounds):
            os.write(fd, b"x" * 128)
            os.fsync(fd)
        return round((time.perf_counter() - began) / rounds * 1000, 3)
    finally:
        os.close(fd)
        probe.unlink()


def _bare_main(port: int, first: int, count: int, topic: str, out: str) -> None:
    """``count`` bare subscribers; write the receive latencies (ms) of one message to ``out``."""
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    latencies: list[float] = []
    lock = threading.Lock()
    subscribed = threading.Semaphore(0)
    clients = []

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        now = time.time()
        with lock:
            latencies.append((now - float(msg.payload)) * 1000)

    for i in range(first, first + count):
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{i}", protocol=mqtt.MQTTv5)
        c.on_message = on_message
        c.on_subscribe = lambda *_a: subscribed.release()
        c.on_connect = lambda cl, *_a: cl.subscribe(topic, qos=1)
        c.connect("127.0.0.1", port, keepalive=300)
        c.loop_start()
        clients.append(c)
    for _ in range(count):
        subscribed.acquire(timeout=60)
    Path(out + ".ready").touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(latencies) < count:
        time.sleep(0.05)
    Path(out).write_text(json.dumps(latencies))
    for c in clients:
        c.disconnect()
        c.loop_stop()


def _baseline(env: BenchEnv, n: int) -> list[float]:
    import multiprocessing

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from cli.benchmarks.support import wait_for

    topic = "bench/bare/emergency"
    ctx = multiprocessing.get_context("spawn")
    outs, procs = [], []
    for first in range(0, n, BARE_PER_PROCESS):
        out = str(env.root / f"bare-{first}.json")
        count = min(BARE_PER_PROCESS, n - first)
        proc = ctx.Process(target=_bare_main, args=(env.broker.port, first, count, topic, out))
        proc.start()
        outs.append(out)
        procs.append(proc)

    def ready() -> bool:
        return all(Path(o + ".ready").exists() for o in outs) or any(
            p.exitcode is not None for p in procs
        )

    if not wait_for(ready, 300) or any(p.exitcode is not None for p in procs):
        raise CliError("the bare baseline subscribers did not subscribe in time")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect("127.0.0.1", env.broker.port)
    pub.loop_start()
    pub.publish(topic, str(time.time()).encode(), qos=1).wait_for_publish(10)
    for proc in procs:
        proc.join(120)
    pub.loop_stop()
    pub.disconnect()
    return [v for o in outs if Path(o).exists() for v in json.loads(Path(o).read_text())]


def _precache(env: BenchEnv, fleet_dir: Path, node_ids: list[str]) -> str:
    """Render the standard notice and put it in every agent's media cache; return its sha."""
    from controller.services.announcements import ensure_media

    rendered = env.ctl.renderer.render_text(NOTICE)
    with env.ctl.sessions.begin() as session:
        ensure_media(session, rendered, "tts", env.ctl.clock.now())
    name = f"{rendered.sha256}.{rendered.ext}"
    source = env.ctl.media_store.resolve(name)
    if source is None:
        raise CliError("the rendered notice is missing from the media store")
    for node in node_ids:
        target = fleet_dir / node / "media" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return rendered.sha256


def _start_fleet(env: BenchEnv, fleet_dir: Path, n: int) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    environ.update(
        {
            "LOA_DATA_DIR": str(fleet_dir),
            "LOA_MQTT_PORT": str(env.broker.port),
            "LOA_CONTROLLER_URL": "http://127.0.0.1:9",
            "LOA_TRUSTED_KEYS": json.dumps([env.ctl.signer.public_key_b64]),
            "LOA_ZONES": json.dumps([ZONE]),
            "LOA_PLAYER": "null",
            "LOA_HEARTBEAT_INTERVAL_S": "600",
        }
    )
    log = (env.root / "fleet.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "agent", "--simulate", str(n), "--prefix", PREFIX],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from agent.fleet import fleet_node_ids
    from cli.benchmarks.support import (
        bench_env,
        peak_rss_mb,
        percentiles,
        wait_for,
        wait_for_fleet_online,
    )
    from controller.db.models import PlaybackEvent
    from controller.services.emergency import EmergencyRequest, issue_emergency

    n = args.agents
    if n < 1:
        raise CliError("--agents must be at least 1")
    node_ids = fleet_node_ids(n, PREFIX)
    shm = Path("/dev/shm")  # noqa: S108 - only the parent of a private mkdtemp
    on_tmpfs = not args.fleet_disk and shm.is_dir()
    with (
        bench_env(ZONE, node_ids) as env,
        tempfile.TemporaryDirectory(prefix="loa-fleet-", dir=shm if on_tmpfs else env.root) as tmp,
    ):
        fleet_dir = Path(tmp)
        baseline = _baseline(env, n)
        sha = _precache(env, fleet_dir, node_ids)
        fleet = _start_fleet(env, fleet_dir, n)
        disk_fsync_ms = fsync_ms(env.root)
        try:
            startup_s = wait_for_fleet_online(env, fleet, n)
            view = issue_emergency(env.ctl, EmergencyRequest([ZONE], media_sha256=sha))
            issued_at, item_id = view.row.issued_at, view.row.item_id

            def started() -> list[float]:
                with env.ctl.sessions() as s:
                    rows = s.scalars(
                        select(PlaybackEvent.at).where(
                            PlaybackEvent.item_id == item_id, PlaybackEvent.kind == "started"
                        )
                    ).all()
                return [(at - issued_at).total_seconds() * 1000 for at in rows]

            wait_for(lambda: len(started()) >= n, 120, interval=0.25)
            latencies = started()
        finally:
            fleet.terminate()
            try:
                fleet.wait(60)
            except subprocess.TimeoutExpired:
                fleet.kill()
    stats, base = percentiles(latencies), percentiles(baseline)
    report = {
        "agents": n,
        "started": len(latencies),
        "p50_ms": stats["p50"],
        "p99_ms": stats["p99"],
        "max_ms": stats["max"],
        "baseline_received": len(baseline),
        "baseline_p50_ms": base["p50"],
        "baseline_p99_ms": base["p99"],
        "baseline_max_ms": base["max"],
        "ratio_p99": round(stats["p99"] / base["p99"], 2) if base["p99"] else None,
        "target_p99_ms": 2000,
        "fleet_startup_s": round(startup_s, 1),
        "fleet_data_on_tmpfs": on_tmpfs,
        "disk_fsync_ms": disk_fsync_ms,
        "precached_media": sha,
        "controller_peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(report))
    return 0
