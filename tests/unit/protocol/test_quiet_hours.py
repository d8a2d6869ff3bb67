"""Quiet-hour windows: parsing, midnight crossing, Vietnam local time, the wire fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from protocol.models import Playlist
from protocol.quiet_hours import (
    QuietHoursError,
    QuietWindow,
    format_quiet_hours,
    parse_quiet_hours,
    quiet_at,
)

NIGHT = QuietWindow.parse("21:30-05:00")


def local(day: int, hh: int, mm: int) -> datetime:
    """A wall-clock time in Vietnam (UTC+7, no DST) as aware UTC."""
    return datetime(2026, 12, day, hh, mm, tzinfo=UTC) - timedelta(hours=7)


@pytest.mark.parametrize(
    ("hh", "mm", "inside"),
    [
        (21, 29, False),
        (21, 30, True),
        (23, 59, True),
        (0, 0, True),
        (4, 59, True),
        (5, 0, False),
        (12, 0, False),
    ],
)
def test_a_window_crossing_midnight(hh: int, mm: int, inside: bool) -> None:
    assert NIGHT.contains(local(10, hh, mm)) is inside


def test_a_window_inside_one_day_and_a_whole_day() -> None:
    noon = QuietWindow.parse("12:00-13:30")
    assert noon.contains(local(3, 12, 0)) and not noon.contains(local(3, 13, 30))
    assert QuietWindow.parse("00:00-00:00").length_min == 24 * 60


def test_vietnam_time_not_utc() -> None:
    # 22:00 UTC is 05:00 in Vietnam: outside; 15:00 UTC is 22:00 there: inside
    assert not NIGHT.contains(datetime(2026, 6, 1, 22, 0, tzinfo=UTC))
    assert NIGHT.contains(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))


def test_overlaps_finds_an_item_reaching_into_the_window() -> None:
    assert NIGHT.overlaps(local(10, 21, 0), local(10, 21, 31))
    assert not NIGHT.overlaps(local(10, 21, 0), local(10, 21, 30))  # ends as it begins
    assert NIGHT.overlaps(local(11, 4, 0), local(11, 5, 30))
    assert not NIGHT.overlaps(local(11, 5, 0), local(11, 21, 30))
    spans = NIGHT.spans(local(10, 12, 0), local(12, 12, 0))
    assert [s[0].hour for s in spans] == [21, 21] and len(spans) == 2


@pytest.mark.parametrize(
    "text", ["21:30", "24:00-05:00", "21:60-05:00", "9:30-10:00", "21:30-05:00x", "", "a-b"]
)
def test_bad_windows_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(QuietHoursError, match="HH:MM-HH:MM"):
        QuietWindow.parse(text)


def test_lists_parse_sort_dedupe_and_format() -> None:
    windows = parse_quiet_hours(" 21:30-05:00, 12:00-13:00,21:30-05:00 ")
    assert format_quiet_hours(windows) == "12:00-13:00, 21:30-05:00"
    assert parse_quiet_hours(None) == () and parse_quiet_hours("  ") == ()
    assert quiet_at(windows, local(5, 12, 30)) == QuietWindow.parse("12:00-13:00")
    with pytest.raises(QuietHoursError, match="at most 8"):
        parse_quiet_hours(",".join(f"{h:02d}:00-{h:02d}:30" for h in range(9)))


def test_the_playlist_carries_cap_and_windows_and_refuses_bad_ones() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    base = {
        "node_id": "n1",
        "version": 1,
        "generated_at": now,
        "window_start": now,
        "window_end": now,
    }
    playlist = Playlist.model_validate({**base, "volume_cap": 60, "quiet_hours": ["21:30-05:00"]})
    assert playlist.volume_cap == 60 and playlist.quiet_hours == ["21:30-05:00"]
    assert Playlist.model_validate(base).volume_cap is None  # older controllers send neither
    for bad in (
        {"volume_cap": 101},
        {"quiet_hours": ["25:00-01:00"]},
        {"quiet_hours": "21:30-05:00"},
    ):
        with pytest.raises(ValidationError):
            Playlist.model_validate({**base, **bad})
