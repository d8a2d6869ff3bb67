"""``loa bench sound-start``, ``agent-idle`` and ``agent-latency`` at smoke size: real mpv
through ALSA, a real broker, controller and agent process; they print the keys issues 15 and
22 name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.bench_cli import bench

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("mpv") is None, reason="needs mpv")
def test_sound_start_hears_every_item_and_reports_the_spawn_baseline() -> None:
    report = bench("sound-start", "--items", "3", "--spacing", "3.5")
    assert report["player"].startswith("mpv (persistent")
    assert report["heard"] == 3 and report["starts"]["preloaded"] == 3, report
    lat = report["start_latency_ms"]
    assert 0 <= lat["p50"] <= lat["p99"] <= lat["max"]
    base = report["baseline_spawn_ms"]
    assert base["heard"] + base["not_heard"] == 3
    assert "method" in report and report["play_called_ms"]["p50"] <= lat["p50"]


def test_agent_idle_reports_rss_cpu_wakeups_and_disk_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOA_BENCH_DIR", str(tmp_path))  # inherited by the bench process
    report = bench("agent-idle", "--seconds", "3")
    assert report["seconds"] >= 3
    assert 5 < report["rss_mb"] < 500
    assert report["cpu_pct"] >= 0 and report["wakeups_per_s"] > 0
    assert report["disk_writes_mb_per_day"] >= 0
    assert set(report["targets"]) == {"rss_mb", "cpu_pct", "disk_writes_mb_per_day"}


def test_agent_latency_measures_one_real_agent_beside_a_fleet() -> None:
    small = ("--fleet", "5", "--runs", "2", "--commands", "2", "--spacing", "0.5")
    report = bench("agent-latency", *small)
    assert report["runs"] == 2 and report["lost"] == 0 and report["measured"] == 4
    assert report["load"]["simulated_agents"] == 5
    for key in ("receive_to_ack_ms", "receive_to_playback_start_ms", "issue_to_receive_ms"):
        figure = report[key]
        assert 0 <= figure["p50"] <= figure["p99"] <= figure["max"], key
        low, high = figure["p99_spread"]
        assert low <= high and len(figure["p99_per_run"]) == 2, key
    # the ack leaves after the reporter's batching wait; the start does not wait for it
    assert report["receive_to_ack_ms"]["p50"] >= 200
    assert report["receive_to_playback_start_ms"]["p50"] < report["receive_to_ack_ms"]["p50"]
