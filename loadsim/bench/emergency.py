"""``loa bench emergency``: from issuing an emergency to every simulated agent *playing* it.

Project path: ``issue_emergency`` stores the emergency and publishes one signed EMERGENCY
command on the zone topic; every agent (the real ``AgentRuntime`` with the null player, run
as ``python -m loadsim --agents N`` in separate processes) verifies it, preempts, starts the
pre-cached evacuation notice and records ``started``. Latency = the event's ``at`` minus
the emergency's ``issued_at`` (one machine, one clock). The notice is copied into every
agent's cache first, as the issue requires ("an emergency never waits for a download").
The emergency is issued once the fleet is *ready*, not merely online: every agent has sent
its first heartbeat (``fleet_settle_s`` after online, see
:func:`loadsim.bench._support.wait_for_fleet_ready`), so the figure does not include the
simulated fleet's own start-up backlog.

The simulated agents keep their data on tmpfs by default: each real agent fsyncs its own
SD card a few times per emergency, in parallel with every other village, but a thousand
agents on one machine would queue those fsyncs on one disk and measure the disk, not the
system (``--fleet-disk`` does exactly that; ``fsync_ms`` is reported either way).

Baselines, same run (:mod:`loadsim.bench._bare_fleet`): the same one-publish fan-out to N
bare paho subscribers (no project code), latency measured at receipt, on the fleet's own
epoll layout (``baseline_*``, ``ratio_p99`` = project p99 / baseline p99) and with paho's
thread-per-client loop (``baseline_threaded_*``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from loadsim.bench._report import BenchError, add_json_flag, emit

if TYPE_CHECKING:
    from loadsim.bench._support import BenchEnv

ZONE = "xa-khan-cap"
PREFIX = "emg"
NOTICE = (
    "Thông báo khẩn cấp. Nước lũ đang lên nhanh. Đề nghị bà con các thôn ven sông "
    "di dời ngay người và tài sản lên nơi cao, theo hướng dẫn của chính quyền xã."
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "emergency", help="emergency issue → every agent playing, vs bare paho fan-out"
    )
    parser.add_argument("--agents", type=int, default=1000)
    add_json_flag(parser)
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


def _precache(env: BenchEnv, fleet_dir: Path, node_ids: list[str]) -> tuple[str, str | None]:
    """Render the standard notice and put it in every agent's media cache; return its sha
    and that of its Opus rendition (None when renditions are off).

    The rendition is made here, as it is in the field: a notice already in every agent's
    cache went out in playlists before, and those name its Opus (made on first use). Left
    missing, the emergency makes it in the background (``with_alternatives(wait=False)``):
    one ffmpeg run, ~0.4 s of CPU on the two cores the fleet is measured on.
    """
    from controller.services.announcements import ensure_media

    rendered = env.ctl.renderer.render_text(NOTICE)
    with env.ctl.sessions.begin() as session:
        ensure_media(session, rendered, "tts", env.ctl.clock.now())
    renditions = env.ctl.renditions
    opus = renditions.opus_for(rendered.sha256, rendered.ext) if renditions else None
    name = f"{rendered.sha256}.{rendered.ext}"
    source = env.ctl.media_store.resolve(name)
    if source is None:
        raise BenchError("the rendered notice is missing from the media store")
    for node in node_ids:
        target = fleet_dir / node / "media" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return rendered.sha256, opus.sha256 if opus else None


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from controller.db.models import PlaybackEvent
    from controller.services.emergency import EmergencyRequest, issue_emergency
    from loadsim.bench._bare_fleet import measure
    from loadsim.bench._support import (
        bench_env,
        peak_rss_mb,
        percentiles,
        ratio,
        start_fleet,
        stop_fleet,
        wait_for,
        wait_for_fleet_online,
        wait_for_fleet_ready,
    )
    from loadsim.fleet import fleet_node_ids

    n = args.agents
    if n < 1:
        raise BenchError("--agents must be at least 1")
    node_ids = fleet_node_ids(n, PREFIX)
    shm = Path("/dev/shm")  # noqa: S108 - only the parent of a private mkdtemp
    on_tmpfs = not args.fleet_disk and shm.is_dir()
    with (
        bench_env(ZONE, node_ids) as env,
        tempfile.TemporaryDirectory(prefix="loa-fleet-", dir=shm if on_tmpfs else env.root) as tmp,
    ):
        fleet_dir = Path(tmp)
        baseline = measure(env.broker.port, env.root, n, "epoll")[0]
        baseline_threaded = measure(env.broker.port, env.root, n, "threads")[0]
        sha, opus_sha = _precache(env, fleet_dir, node_ids)
        fleet = start_fleet(env, n, PREFIX, ZONE, fleet_dir)
        disk_fsync_ms = fsync_ms(env.root)
        try:
            startup_s = wait_for_fleet_online(env, fleet, n)
            settle_s = wait_for_fleet_ready(env, fleet, n)
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
            stop_fleet(fleet)
    stats, base = percentiles(latencies), percentiles(baseline)
    threaded = percentiles(baseline_threaded)
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
        "ratio_p99": ratio(stats["p99"], base["p99"]),
        "baseline": "bare paho clients, no project code, on the fleet's epoll layout",
        "baseline_threaded_received": len(baseline_threaded),
        "baseline_threaded_p99_ms": threaded["p99"],
        "ratio_p99_threaded": ratio(stats["p99"], threaded["p99"]),
        "target_p99_ms": 2000,
        "fleet_startup_s": round(startup_s, 1),
        "fleet_settle_s": round(settle_s, 1),
        "fleet_data_on_tmpfs": on_tmpfs,
        "disk_fsync_ms": disk_fsync_ms,
        "precached_media": sha,
        "opus_rendition": opus_sha,
        "controller_peak_rss_mb": peak_rss_mb(),
    }
    emit(report, args.json)
    return 0
