"""The fleet benchmarks run end to end at a small size and print the JSON the issues name.

They are measured at full size by hand (``loa bench fanout --agents 2000``); these tests
only keep them working: a real broker, controller and simulated fleet every time.
"""

from __future__ import annotations

import pytest
from support.bench_cli import bench

pytestmark = pytest.mark.integration


def test_fanout_reaches_every_agent_and_reports_against_its_baseline() -> None:
    report = bench("fanout", "--agents", "30", "--rounds", "2")
    assert report["agents"] == report["received"] == report["baseline_received"] == 30
    for key in ("p50_ms", "p99_ms", "max_ms", "baseline_p99_ms", "ratio_p99"):
        assert report[key] is not None and report[key] >= 0, key
    assert report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["mass_disconnect_to_all_offline_s"] is not None
    assert report["rounds"] == 2 and len(report["p99_ms_per_round"]) == 2
    # the product path reaches the same light subscribers as the bare baseline
    assert report["product_path_received"] == 30
    assert report["product_path_ratio_p99"] is not None and report["product_path_ratio_p99"] > 0
    low, high = report["product_path_p99_ms_spread"]
    assert low <= report["product_path_p99_ms"] <= high


def test_emergency_starts_on_every_agent() -> None:
    report = bench("emergency", "--agents", "30")
    assert report["agents"] == report["started"] == 30
    assert report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["fleet_data_on_tmpfs"] is True
    # issued once every agent's first heartbeat was stored, after the settle (SETTLE_S)
    assert report["fleet_settle_s"] >= 1.0
    # the notice's Opus existed before the emergency (no ffmpeg run in the measured window);
    # the agents still start the MP3 they have cached
    assert report["opus_rendition"] is not None
