"""``loa bench field`` end to end, small: its own namespace and slow link, one real agent,
the real controller; the keys the issue names come out. Skipped (with the reason) where
network namespaces or TUN devices are not permitted."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from loadsim.bench._netns import SlowLink
from loadsim.bench._report import BenchError

pytestmark = pytest.mark.integration


def _link_or_skip() -> None:
    why = SlowLink.available()
    if why is not None:
        pytest.skip(f"loa bench field needs ip netns + TUN: {why}")
    try:
        with SlowLink():
            pass
    except BenchError as exc:
        pytest.skip(f"ip netns is not permitted here: {exc}")


def test_field_bench_reports_bytes_and_sound_times_on_the_slow_link() -> None:
    _link_or_skip()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", "field", "--json", "--profiles", "new",
         "--parts", "idle,emergency", "--idle-seconds", "3", "--warmup", "0"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    new = report["new"]
    assert new["idle_bytes_per_day"] >= 0 and new["mb_per_month"] >= 0
    assert 0 < new["emergency_precached_to_sound_s"] < 5  # from the cache: no download
    assert new["emergency_precached_to_sound_s"] < new["emergency_text_to_sound_s"] < 60
    assert report["emergency_text_to_sound_s"] == new["emergency_text_to_sound_s"]
    assert "300 ms RTT" in report["link"]
    _check_fresh_emergency_figures(new)


def _check_fresh_emergency_figures(new: dict[str, Any]) -> None:
    """Progressive (signed chunks) and after the full verified download, with breakdowns:
    on the node, the progressive start does not wait for the file (~47 KB: >= 3.8 s of wire
    time at 100 kbit/s), the full download does."""
    streamed, whole = new["emergency_breakdown"], new["emergency_breakdown_full_download"]
    assert "progressive: started after 1 of" in streamed["started"]
    assert "progressive" not in whole["started"]
    assert new["emergency_text_to_sound_full_download_s"] > 0
    assert whole["node_to_sound_s"] >= 3.0 > streamed["node_to_sound_s"]
    for breakdown in (streamed, whole):
        assert breakdown["render_s"] > 0 and breakdown["tools_cpu_s"] > 0
        assert breakdown["media_bytes"] > 10_000
