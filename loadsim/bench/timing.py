"""``loa bench timing``: how close to the scheduled second does the agent start items?

One real ``loa agent`` process (``tap`` player) plays ``--items`` items ``--spacing`` seconds
apart while ``--fleet`` simulated agents load the same Mosquitto from another process. Start
errors come from the tap file (wall clock). The baseline is a bare ``threading.Event.wait``
scheduler run in this process over the same schedule at the same time, so the ratio shows
what the agent's machinery costs. A second run measures peak RSS while holding a 48 h
playlist of ``--rss-items`` items.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loadsim.bench._report import add_json_flag, emit

RSS_TARGET_MB = 80.0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("timing", help="agent start-time accuracy under fleet load")
    add_json_flag(parser)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.75, help="seconds between starts")
    parser.add_argument("--fleet", type=int, default=50, help="simulated agents as load")
    parser.add_argument("--rss-items", type=int, default=500)
    parser.set_defaults(handler=run)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(abs(v) for v in values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1], 3)}


class _MediaServer:
    def __init__(self, directory: Path) -> None:
        handler = type(
            "Handler",
            (http.server.SimpleHTTPRequestHandler,),
            {"log_message": lambda *_: None},
        )

        def factory(*args: Any) -> http.server.BaseHTTPRequestHandler:
            return handler(*args, directory=str(directory))  # type: ignore[no-any-return]

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def _baseline(starts: list[float], stop: threading.Event) -> list[float]:
    """The simplest possible scheduler: Event.wait until each start, note the error."""
    errors: list[float] = []
    wake = threading.Event()
    for start in starts:
        while (left := start - time.time()) > 0 and not stop.is_set():
            wake.wait(left)
        errors.append((time.time() - start) * 1000)
    return errors


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


class _Bench:
    def __init__(self, work: Path, args: argparse.Namespace) -> None:
        from controller.broker.process import MosquittoProcess
        from protocol.models import MediaRef
        from protocol.signing import Signer

        self.work = work
        self.args = args
        self.signer = Signer.generate()
        self.broker = MosquittoProcess(work / "broker")
        media_dir = work / "served" / "media"
        media_dir.mkdir(parents=True)
        body = b"RIFF" + os.urandom(4000)
        digest = hashlib.sha256(body).hexdigest()
        (media_dir / f"{digest}.wav").write_bytes(body)
        self.media = MediaRef(sha256=digest, ext="wav", size=len(body), duration_s=1)
        self.server = _MediaServer(work / "served")
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "LOA_CONTROLLER_URL": self.server.url,
            "LOA_MQTT_HOST": self.broker.host,
            "LOA_MQTT_PORT": str(self.broker.port),
            "LOA_TRUSTED_KEYS": json.dumps([self.signer.public_key_b64]),
            "LOA_RECONNECT_MIN_S": "0.2",
            "LOA_RECONNECT_MAX_S": "2",
            **extra,
        }

    def spawn(
        self, argv: list[str], entry: tuple[str, ...] = ("agent",), **env: str
    ) -> subprocess.Popen[bytes]:
        """Start an agent via ``python -m agent`` (what systemd runs) or ``loa agent``."""
        proc = subprocess.Popen(
            [sys.executable, "-m", *entry, *argv],
            env=self.env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def playlist(self, node: str, starts: list[datetime], duration_s: float) -> bytes:
        from protocol.models import ItemKind, Playlist, PlaylistItem

        items = [
            PlaylistItem(
                id=f"b-{n}", kind=ItemKind.AUDIO, start=s, duration_s=duration_s, media=self.media
            )
            for n, s in enumerate(starts)
        ]
        now = datetime.now(UTC)
        pl = Playlist(
            node_id=node,
            version=1,
            generated_at=now,
            window_start=now,
            window_end=now + timedelta(hours=48),
            items=items,
        )
        return self.signer.sign(pl)

    def publish_retained(self, messages: dict[str, bytes]) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        for topic, payload in messages.items():
            client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
        client.loop_stop()
        client.disconnect()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.server.httpd.shutdown()
        self.broker.stop()


def _wait_for(path: Path, predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate(path):
        time.sleep(0.1)


def _timing_run(bench: _Bench) -> dict[str, Any]:
    from loadsim.fleet import fleet_node_ids
    from protocol import topics

    args = bench.args
    fleet_ids = fleet_node_ids(args.fleet, "sim") if args.fleet else []
    lead = 8.0 + args.fleet * 0.1
    first = datetime.now(UTC) + timedelta(seconds=lead)
    starts = [first + timedelta(seconds=args.spacing * n) for n in range(args.items)]
    duration = max(0.05, args.spacing * 0.6)
    messages = {topics.node_playlist("bench-1"): bench.playlist("bench-1", starts, duration)}
    for node in fleet_ids:
        messages[topics.node_playlist(node)] = bench.playlist(node, starts, duration)
    bench.publish_retained(messages)
    if fleet_ids:
        bench.spawn(
            ["--agents", str(args.fleet), "--prefix", "sim"],
            ("loadsim",),
            LOA_DATA_DIR=str(bench.work / "fleet"),
            LOA_HEARTBEAT_INTERVAL_S="1",
        )
    tap = bench.work / "tap.jsonl"
    agent = bench.spawn(
        [],
        ("agent",),
        LOA_NODE_ID="bench-1",
        LOA_DATA_DIR=str(bench.work / "bench-1"),
        LOA_PLAYER="tap",
        LOA_TAP_FILE=str(tap),
        LOA_HEARTBEAT_INTERVAL_S="5",
    )
    stop = threading.Event()
    result: list[float] = []
    base_thread = threading.Thread(
        target=lambda: result.extend(_baseline([s.timestamp() for s in starts], stop))
    )
    base_thread.start()
    while datetime.now(UTC) < starts[-1] + timedelta(seconds=duration + 1):
        time.sleep(0.2)
    base_thread.join()
    peak_rss = _vm_hwm_mb(agent.pid)
    taps = [json.loads(line) for line in tap.read_text().splitlines()] if tap.exists() else []
    by_id = {f"b-{n}": s for n, s in enumerate(starts)}
    errors = [
        (datetime.fromisoformat(t["started_at"]) - by_id[t["item_id"]]).total_seconds() * 1000
        for t in taps
        if t["offset_s"] == 0
    ]
    agent_pct = percentiles(errors)
    base_pct = percentiles(result)
    return {
        "items": args.items,
        "played_on_time_from_start": len(errors),
        "spacing_s": args.spacing,
        "fleet_agents": args.fleet,
        "start_error_ms": agent_pct,
        "baseline": {"scheduler": "threading.Event.wait loop", "start_error_ms": base_pct},
        "ratio_p99": round(agent_pct["p99"] / max(base_pct["p99"], 0.001), 2),
        "peak_rss_mb": peak_rss,
    }


def _rss_once(bench: _Bench, node: str, starts: list[datetime], entry: tuple[str, ...]) -> float:
    from protocol import topics

    bench.publish_retained({topics.node_playlist(node): bench.playlist(node, starts, 30)})
    data = bench.work / node
    agent = bench.spawn([], entry, LOA_NODE_ID=node, LOA_DATA_DIR=str(data), LOA_PLAYER="null")
    _wait_for(data / "playlist.signed.json", Path.exists, 30)
    time.sleep(3)  # heartbeats, cache scan and playout steps with the whole playlist
    rss = _vm_hwm_mb(agent.pid)
    agent.terminate()
    agent.wait(15)
    return rss


def _rss_run(bench: _Bench, items: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    step = 48 * 3600 / items
    starts = [now + timedelta(seconds=60 + step * n) for n in range(items)]
    rss = _rss_once(bench, "rss-1", starts, ("agent",))
    via_loa = _rss_once(bench, "rss-2", starts, ("cli.main", "agent"))
    return {
        "items": items,
        "hours": 48,
        "peak_rss_mb": rss,
        "entry_point": "python -m agent",
        "peak_rss_mb_via_loa_cli": via_loa,
        "target_mb": RSS_TARGET_MB,
        "ok": rss < RSS_TARGET_MB,
    }


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="loa-bench-timing-") as tmp:
        bench = _Bench(Path(tmp), args)
        bench.broker.start()
        try:
            out = _timing_run(bench)
            out["playlist_48h"] = _rss_run(bench, args.rss_items)
        finally:
            bench.close()
    emit(out, args.json)
    return 0
