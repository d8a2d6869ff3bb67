"""``loa bench field --parts playlist``: a day of rolls for one node costs several times fewer
bytes as signed deltas than as full playlists, and the keys the field bench reports exist."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from loadsim.bench._playlist_day import wire_bytes

pytestmark = pytest.mark.integration


def test_a_day_of_rolls_in_deltas_costs_a_fraction_of_full_playlists() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", "field", "--json", "--parts", "playlist"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # six items a day: each rolls into the 48 h window once and out of the 2 h lookback once
    assert report["playlist_messages_per_day"] == 12
    assert report["playlist_bytes_per_day"] * 4 < report["playlist_bytes_per_day_baseline"]
    assert report["playlist_payload_bytes_per_day"] < report["playlist_bytes_per_day"]


def test_wire_bytes_add_mqtt_and_tcp_headers_per_segment() -> None:
    small, large = wire_bytes("t", b"x" * 100), wire_bytes("t", b"x" * 3000)
    assert small == 100 + 2 + 1 + 2 + 1 + 2 + 4 + 52 * 2
    assert large > 3000 + 52 * 4  # three segments and the PUBACK's
