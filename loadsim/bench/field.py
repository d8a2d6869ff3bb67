"""``loa bench field``: what one village node costs and how fast it sounds on a weak mobile link.

The benchmark makes its own link (:mod:`loadsim.bench._netns`): a network namespace joined to
this host by a veth pair with ``tc netem rate 100kbit delay 150ms loss 1%`` on both ends
(~300 ms RTT). A private Mosquitto (listening on the host end too) and the real controller
app (served by uvicorn on the host end, so media downloads cross the link) stay outside; one
real ``python -m agent`` runs inside (``ip netns exec``) with the ``tap`` player, which logs
the instant each item starts. Bytes are the host veth's rx+tx counters: everything the
node exchanges, Ethernet/IP/TCP headers included.

Two agents, one after the other, on the same link and controller: ``baseline`` with
today's defaults as they were before the weak-link work (JSON heartbeat every 30 s,
60 s keep-alive, MP3 media, emergency media downloaded whole) and ``new`` with the new
defaults. For each:

- ``idle_bytes_per_day`` / ``mb_per_month``: after ``--warmup`` s, the bytes of an idle
  window of ``--idle-seconds`` (default 600) extrapolated to a day and to 30 days
  (1 MB = 10^6 bytes). A short window extrapolates a few exchanges: use a longer one for
  figures to quote;
- ``notice_bytes_per_minute``: a one-off announcement (a fixed ~50 s notice) from its
  creation until the agent has its media, divided by its length in minutes (the playlist
  publish included);
- ``emergency_precached_to_sound_s``: the standard notice already in the agent's cache,
  issue → the tap player starting it;
- ``emergency_text_to_sound_s``: a fresh ~30 s emergency text, issue (rendering included)
  → first sound on the slow link, as the profile's agent plays it (``new``: progressively,
  from the first chunk verified against the signed chunk hashes);
- ``emergency_text_to_sound_full_download_s``: the same with a command that carries no chunk
  hashes, so the agent plays only after the whole file is downloaded and verified;
- ``emergency_breakdown`` / ``emergency_breakdown_full_download``: where those seconds go
  (see :func:`_fresh_emergency`).

Part ``playlist`` (no link needed: a day of calendar time, in process, see
:mod:`loadsim.bench._playlist_day`): ``playlist_bytes_per_day`` for a node with six daily
items, with signed deltas, and ``playlist_bytes_per_day_baseline`` with full playlists.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loadsim.bench._netns import LinkShape, SlowLink
from loadsim.bench._report import BenchError, add_json_flag, emit
from loadsim.bench._support import wait_for
from loadsim.bench._wire import breakdown

ZONE = "field"
PARTS = ("idle", "notice", "emergency", "playlist")
TARGETS = {"mb_per_month": 5.0, "notice_bytes_per_minute": 150_000, "emergency_text_to_sound_s": 10}

# the agent settings that made "today's defaults" before the weak-link work
BASELINE_ENV = {
    "LOA_HEARTBEAT_INTERVAL_S": "30",
    "LOA_HEARTBEAT_MAX_INTERVAL_S": "30",
    "LOA_HEARTBEAT_ENCODING": "json",
    "LOA_HEARTBEAT_DELTA": "false",
    "LOA_MQTT_KEEPALIVE_S": "60",
    "LOA_AUDIO_FORMATS": '["mp3"]',
    "LOA_PROGRESSIVE_MEDIA": "false",
}
PROFILES: dict[str, dict[str, str]] = {"baseline": BASELINE_ENV, "new": {}}
# the node's kernel: the agent installer turns TCP timestamps off on the dedicated Pi (40-byte
# instead of 52-byte TCP/IP headers, deploy/agent/install.sh); before, the kernel default
NODE_SYSCTLS: dict[str, dict[str, str]] = {
    "baseline": {"net.ipv4.tcp_timestamps": "1"},
    "new": {"net.ipv4.tcp_timestamps": "0"},
}

NOTICE = (
    "Kính thưa bà con nhân dân! Điện lực khu vực thông báo tạm ngừng cung cấp điện để bảo dưỡng "
    "đường dây trung thế. Thời gian cắt điện từ 7 giờ đến 17 giờ ngày 20 tháng 12. Khu vực mất "
    "điện gồm thôn Bắc, thôn Nam, xóm Chợ và khu vực trường trung học cơ sở. Đề nghị các hộ kinh "
    "doanh chủ động bố trí sản xuất, không tự ý trèo lên cột điện hay đến gần trạm biến áp."
)
EMERGENCY_TEXT = (
    "Thông báo khẩn cấp số {n}. Nước lũ trên sông Cầu đang lên rất nhanh. Đề nghị bà con các thôn "
    "ven sông di dời ngay người, tài sản và gia súc lên nơi cao ráo, theo hướng dẫn của lực lượng "
    "dân quân và công an xã. Không đi qua ngầm, tràn, không đánh bắt cá trên sông."
)
STANDARD_NOTICE = (
    "Thông báo khẩn cấp. Đề nghị bà con sơ tán ngay theo hướng dẫn của chính quyền xã."
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "field", help="one node on a shaped mobile link (netns + netem): bytes and sound times"
    )
    add_json_flag(parser)
    parser.add_argument("--idle-seconds", type=float, default=600.0, help="idle window measured")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated subset of {', '.join(PARTS)}"
    )
    parser.add_argument("--profiles", default="baseline,new", help="baseline, new or both")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="LOA_NAME=VALUE",
        help="an agent setting for the new profile (e.g. LOA_HEARTBEAT_MAX_INTERVAL_S=90)",
    )
    parser.add_argument(
        "--node-sysctl",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a kernel setting of the namespace for the new profile (default: what the"
        " installer sets, net.ipv4.tcp_timestamps=0; e.g. net.ipv4.tcp_timestamps=1)",
    )
    parser.set_defaults(handler=run)


@dataclass
class Rig:
    link: SlowLink
    ctl: Any  # controller.services.container.Controller
    mqtt_port: int
    http_url: str
    root: Path


@contextmanager
def rig(root: Path, link: SlowLink, node_ids: list[str]) -> Iterator[Rig]:
    """Mosquitto + the controller app, both reachable from the namespace at ``link.host_ip``."""
    import uvicorn

    from controller.app import create_app
    from controller.broker.process import MosquittoProcess, free_port
    from controller.config import ControllerSettings
    from controller.db.models import Node, Zone

    broker = MosquittoProcess(root / "mosquitto")
    broker.extra_config = f"listener {broker.port} {link.host_ip}"
    broker.start()
    try:
        settings = ControllerSettings(
            data_dir=root / "controller",
            mqtt_port=broker.port,
            tts_engine_order=["espeak-ng"],
            mqtt_client_id=f"field-controller-{time.time_ns()}",
            scheduler_enabled=False,  # the jobs' own cadence is not what is measured here
            # the rig's agents have no node accounts: a private bench controller lets them
            # fetch media without (production nodes send their own credentials)
            api_anonymous_admin=True,
        )
        app = create_app(settings)
        http_port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host=link.host_ip, port=http_port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            if not wait_for(lambda: server.started, 60):
                raise BenchError("the controller did not start")
            ctl = app.state.controller
            now = datetime.now(UTC)
            with ctl.sessions.begin() as session:
                session.add(Zone(id=ZONE, name=ZONE, created_at=now))
                session.flush()
                session.add_all(Node(id=n, name=n, zone_id=ZONE, created_at=now) for n in node_ids)
            yield Rig(link, ctl, broker.port, f"http://{link.host_ip}:{http_port}", root)
        finally:
            server.should_exit = True
            thread.join(30)
    finally:
        broker.stop()


def _online(r: Rig, node: str) -> bool:
    from controller.db.models import Node

    with r.ctl.sessions() as s:
        row = s.get(Node, node)
        return bool(row is not None and row.online)


def _tap_start(tap: Path, item_id: str) -> datetime | None:
    if not tap.exists():
        return None
    for line in tap.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("item_id") == item_id:
            return datetime.fromisoformat(entry["started_at"])
    return None


def _precache_standard(r: Rig, media_dir: Path) -> str:
    """Render the standard notice and put it in the agent's cache (as an install would)."""
    from controller.services.announcements import ensure_media

    rendered = r.ctl.renderer.render_text(STANDARD_NOTICE)
    with r.ctl.sessions.begin() as session:
        ensure_media(session, rendered, "tts", r.ctl.clock.now())
    name = f"{rendered.sha256}.{rendered.ext}"
    source = r.ctl.media_store.resolve(name)
    if source is None:
        raise BenchError("the rendered standard notice is missing from the media store")
    media_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, media_dir / name)
    return str(rendered.sha256)


def _quiet(r: Rig, seconds: float = 2.0, limit: float = 60.0) -> None:
    """Wait until the link carried nothing for ``seconds`` (the tail of an exchange)."""
    deadline = time.monotonic() + limit
    last = r.link.wire_bytes()
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = r.link.wire_bytes()
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= seconds:
            return


def _notice(r: Rig, node: str, media_dir: Path) -> float:
    from controller.services.announcements import Targets, create_text_announcement

    before = r.link.wire_bytes()
    now = r.ctl.clock.now()
    with r.ctl.sessions.begin() as session:
        ann = create_text_announcement(
            session,
            r.ctl.renderer,
            text=NOTICE + f" (Bản tin cho {node}.)",
            targets=Targets(zone_ids=[], node_ids=[node]),
            start=now + timedelta(minutes=30),
            now=now,
        )
        session.flush()
        if ann.media is None:
            raise BenchError("the notice was not rendered")
        sha, ext, seconds = ann.media.sha256, ann.media.ext, float(ann.duration_s)
    r.ctl.publisher.refresh()
    names = {f"{sha}.{ext}"}
    alt = r.ctl.renditions.opus_for(sha, ext) if r.ctl.renditions else None
    if alt is not None:
        names.add(f"{alt.sha256}.{alt.ext}")  # what an Opus-playing agent fetches instead
    if not wait_for(lambda: any((media_dir / n).is_file() for n in names), 300, 0.2):
        raise BenchError("the agent never downloaded the notice")
    _quiet(r)
    return (r.link.wire_bytes() - before) / (seconds / 60)


def _emergency(r: Rig, tap: Path, text: str | None = None, sha: str | None = None) -> float:
    from controller.services.emergency import EmergencyRequest, issue_emergency

    view = issue_emergency(r.ctl, EmergencyRequest([ZONE], text=text, media_sha256=sha))
    item, issued = view.row.item_id, view.row.issued_at
    if not wait_for(lambda: _tap_start(tap, item) is not None, 300, 0.1):
        raise BenchError(f"the emergency {item} never started")
    started = _tap_start(tap, item)
    assert started is not None
    from controller.services.emergency import cancel_emergency

    cancel_emergency(r.ctl, view.row.id)
    return round((started - issued).total_seconds(), 2)


def profile(
    r: Rig,
    name: str,
    parts: set[str],
    idle_s: float,
    warmup: float,
    extra: dict[str, str] | None = None,
    sysctls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one agent with profile ``name`` inside the namespace and measure ``parts``."""
    node = f"field-{name}"
    data = r.root / node
    tap = data / "tap.jsonl"
    standard = _precache_standard(r, data / "media") if "emergency" in parts else None
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    environ.update(
        {
            "LOA_NODE_ID": node,
            "LOA_ZONES": json.dumps([ZONE]),
            "LOA_DATA_DIR": str(data),
            "LOA_MQTT_HOST": r.link.host_ip,
            "LOA_MQTT_PORT": str(r.mqtt_port),
            "LOA_CONTROLLER_URL": r.http_url,
            "LOA_TRUSTED_KEYS": json.dumps([r.ctl.signer.public_key_b64]),
            "LOA_PLAYER": "tap",
            "LOA_TAP_FILE": str(tap),
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        }
    )
    environ.update(PROFILES[name])
    kernel = dict(NODE_SYSCTLS[name])
    if name == "new":
        environ.update(extra or {})
        kernel.update(sysctls or {})
    for key, value in kernel.items():  # before the agent connects: set per connection
        r.link.sysctl(key, value)
    log = (r.root / f"{node}.log").open("wb")
    agent = subprocess.Popen(
        [*r.link.exec_prefix(), sys.executable, "-m", "agent"],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    out: dict[str, Any] = {}
    try:
        r.ctl.publisher.refresh()
        if not wait_for(lambda: _online(r, node) or agent.poll() is not None, 120):
            raise BenchError(f"the {name} agent did not come online")
        if agent.poll() is not None:
            tail = (r.root / f"{node}.log").read_text(errors="replace")[-2000:]
            raise BenchError(f"the {name} agent exited:\n{tail}")
        wait_for(lambda: (data / "playlist.signed.json").exists(), 60)
        time.sleep(warmup)
        if "idle" in parts:
            first, began = r.link.wire_bytes(), time.monotonic()
            time.sleep(idle_s)
            spent, ended = r.link.wire_bytes() - first, time.monotonic()
            elapsed = ended - began
            out["idle_packets"] = breakdown(r.link.traced(began, ended), r.mqtt_port)
            per_day = spent / elapsed * 86400
            out["idle_bytes_per_day"] = round(per_day)
            out["mb_per_month"] = round(per_day * 30 / 1e6, 2)
            out["idle_window_s"] = round(elapsed, 1)
        if "notice" in parts:
            out["notice_bytes_per_minute"] = round(_notice(r, node, data / "media"))
        if "emergency" in parts:
            out["emergency_precached_to_sound_s"] = _emergency(r, tap, sha=standard)
            out.update(_fresh_emergency_figures(r, tap, node, name))
    finally:
        agent.terminate()
        try:
            agent.wait(20)
        except subprocess.TimeoutExpired:
            agent.kill()
        log.close()
    return out


def measure(
    parts: set[str],
    profiles: list[str],
    idle_s: float,
    warmup: float,
    shape: LinkShape,
    extra: dict[str, str] | None = None,
    sysctls: dict[str, str] | None = None,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="loa-bench-field-") as tmp,
        SlowLink(shape, trace=True) as link,
    ):
        root = Path(tmp)
        with rig(root, link, [f"field-{p}" for p in profiles]) as r:
            results = {p: profile(r, p, parts, idle_s, warmup, extra, sysctls) for p in profiles}
        lost = link.lost_packets()
    report: dict[str, Any] = {
        "link": shape.describe(),
        "lost_packets": lost,
        "idle_extrapolated_from_s": idle_s if "idle" in parts else None,
        "new_profile_settings": extra or {},
        "node_sysctls": {
            p: {**NODE_SYSCTLS[p], **((sysctls or {}) if p == "new" else {})} for p in profiles
        },
    }
    for name, figures in results.items():
        report[name] = figures
    if "new" in results:
        new = results["new"]
        report.update({k: v for k, v in new.items() if k not in ("idle_window_s", "idle_packets")})
        report["targets"] = TARGETS
        report["ok"] = all(
            new[k] <= v if k != "emergency_text_to_sound_s" else new[k] < v
            for k, v in TARGETS.items()
            if k in new
        )
    return report


def run(args: argparse.Namespace) -> int:
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or not parts <= set(PARTS):
        raise BenchError(f"--parts must be a subset of {', '.join(PARTS)}")
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    if not profiles or not set(profiles) <= set(PROFILES):
        raise BenchError("--profiles must name baseline and/or new")
    if args.idle_seconds <= 0 or args.warmup < 0:
        raise BenchError("--idle-seconds must be positive and --warmup not negative")
    extra: dict[str, str] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("LOA_"):
            raise BenchError(f"--set wants LOA_NAME=VALUE, got {item!r}")
        extra[key] = value
    sysctls: dict[str, str] = {}
    for item in args.node_sysctl:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("net."):
            raise BenchError(f"--node-sysctl wants net.NAME=VALUE, got {item!r}")
        sysctls[key] = value
    on_link = parts - {"playlist"}
    report = (
        measure(on_link, profiles, args.idle_seconds, args.warmup, LinkShape(), extra, sysctls)
        if on_link
        else {}
    )
    emit({**report, **playlist_part(parts)}, args.json)
    return 0


def playlist_part(parts: set[str]) -> dict[str, Any]:
    """The playlist figures (a separate, in-process measurement) when asked for."""
    from loadsim.bench._playlist_day import playlist_day

    return playlist_day() if "playlist" in parts else {}


# -- fresh emergency text: time to sound, progressive and after the full download, with
#    where the seconds go -------------------------------------------------------------------


@contextmanager
def _timed(obj: Any, method: str, spent: list[float]) -> Iterator[None]:
    """Add the seconds each call of ``obj.method`` takes to ``spent`` (this instance only)."""
    original = getattr(obj, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    setattr(obj, method, timed)
    try:
        yield
    finally:
        delattr(obj, method)  # the class's method again


def _fresh_emergency(r: Rig, tap: Path, node: str, text: str, progressive: bool) -> dict[str, Any]:
    """Issue ``text`` as an emergency and split issue → first sound into its steps:

    ``render_s`` (TTS + mastering to MP3), ``opus_s`` (the Opus rendition), ``publish_s``
    (the rest of the issue call: chunk hashes, signing, storing, the MQTT publish),
    ``tools_cpu_s`` (CPU seconds espeak-ng and ffmpeg used: what rendering costs on an
    unshared controller),
    ``to_node_s`` (publish returned → the command's arrival on the node, over the link),
    ``node_to_sound_s`` (arrival → the player started: the download, the verification and
    the player's start), plus the command's and the media's sizes on the wire."""
    from controller.db.models import Command as CommandRow
    from controller.db.models import PlaybackEvent
    from controller.services.emergency import EmergencyRequest, cancel_emergency, issue_emergency

    render: list[float] = []
    opus: list[float] = []
    tools_cpu = _children_cpu_s()
    began = time.perf_counter()
    with _timed(r.ctl.renderer, "render_text", render):
        if r.ctl.renditions is not None:
            with _timed(r.ctl.renditions, "opus_for", opus):
                view = issue_emergency(
                    r.ctl, EmergencyRequest([ZONE], text=text, progressive=progressive)
                )
        else:
            view = issue_emergency(
                r.ctl, EmergencyRequest([ZONE], text=text, progressive=progressive)
            )
    issue_call_s = time.perf_counter() - began
    tools_cpu = _children_cpu_s() - tools_cpu
    item, issued = view.row.item_id, view.row.issued_at
    if not wait_for(lambda: _tap_start(tap, item) is not None, 300, 0.1):
        raise BenchError(f"the emergency {item} never started")
    started = _tap_start(tap, item)
    assert started is not None

    def node_events() -> list[PlaybackEvent]:
        with r.ctl.sessions() as session:
            rows = session.query(PlaybackEvent).filter(
                PlaybackEvent.node_id == node,
                (PlaybackEvent.command_id.in_(view.row.command_ids))
                | (PlaybackEvent.item_id == item),
            )
            return list(rows)

    wait_for(lambda: any(e.kind == "started" for e in node_events()), 60, 0.2)
    events = node_events()
    cancel_emergency(r.ctl, view.row.id)
    with r.ctl.sessions() as session:
        payload = session.get_one(CommandRow, view.row.command_ids[0]).payload
    ack = next((e.at for e in events if e.kind == "command_ack"), None)
    note = next((e.detail for e in events if e.kind == "started"), "")
    spent_render, spent_opus = sum(render), sum(opus)
    breakdown: dict[str, Any] = {
        "render_s": round(spent_render, 2),
        "opus_s": round(spent_opus, 2),
        "publish_s": round(issue_call_s - spent_render - spent_opus, 2),
        "tools_cpu_s": round(tools_cpu, 2),
        "command_bytes": len(payload),
        "media_bytes": _media_bytes(payload),
        "started": note,
    }
    if ack is not None:
        arrived = ack.replace(tzinfo=UTC) if ack.tzinfo is None else ack
        breakdown["to_node_s"] = round((arrived - issued).total_seconds() - issue_call_s, 2)
        breakdown["node_to_sound_s"] = round((started - arrived).total_seconds(), 2)
    return {"to_sound_s": round((started - issued).total_seconds(), 2), "breakdown": breakdown}


def _children_cpu_s() -> float:
    """CPU seconds of finished child processes (espeak-ng, ffmpeg): unlike wall time, not
    inflated when the machine is shared."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _media_bytes(payload: str) -> int | None:
    """The size of what an Opus-playing agent fetches (the chunked encoding, else the main)."""
    body = json.loads(payload)
    command = body.get("payload", body)
    if not isinstance(command, dict):
        return None
    chunks = command.get("chunks") or {}
    media = (command.get("item") or {}).get("media") or {}
    opus = [a for a in media.get("alternatives") or [] if a.get("ext") == "opus"]
    size = chunks.get("size") or (opus[0]["size"] if opus else media.get("size"))
    return int(size) if size is not None else None


def _fresh_emergency_figures(r: Rig, tap: Path, node: str, name: str) -> dict[str, Any]:
    """A fresh text as the profile plays it, then one whose command has no chunk hashes."""
    figures: dict[str, Any] = {}
    for key, progressive in (("", True), ("_full_download", False)):
        text = EMERGENCY_TEXT.format(n=f"{name}{key} {time.time_ns() % 100000}")
        measured = _fresh_emergency(r, tap, node, text, progressive)
        figures[f"emergency_text_to_sound{key}_s"] = measured["to_sound_s"]
        figures[f"emergency_breakdown{key}"] = measured["breakdown"]
        _quiet(r)
    return figures
