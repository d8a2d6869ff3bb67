"""Report periods (month / quarter in Vietnam time) and the heartbeat coverage rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from controller.services.reports.availability import Availability, covered_seconds
from controller.services.reports.period import Period, PeriodError
from controller.services.reports.plan import bulletin_key, occurrence_key


def test_a_month_starts_and_ends_at_vietnam_midnight() -> None:
    p = Period.parse("2026-11")
    assert (p.key, p.label_vi, p.last) == ("2026-11", "tháng 11/2026", date(2026, 11, 30))
    assert p.start == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def test_a_quarter_spans_three_months_and_crosses_the_year() -> None:
    p = Period.parse("2026-q4")
    assert (p.key, p.quarter, p.first, p.following) == (
        "2026-Q4",
        4,
        date(2026, 10, 1),
        date(2027, 1, 1),
    )
    assert p.label_vi == "quý 4/2026" and p.last == date(2026, 12, 31)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "1999-01", "nov", "", "2026-1"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        Period.parse(text)


T0 = datetime(2026, 11, 1, tzinfo=UTC)
GRACE = timedelta(minutes=20)


def _at(*minutes: int) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_regular_heartbeats_cover_the_whole_window() -> None:
    beats = _at(*range(0, 60, 10))
    assert covered_seconds(beats, GRACE, T0, T0 + timedelta(hours=1)) == 3600


def test_a_gap_counts_two_intervals_after_the_last_beat_then_down() -> None:
    # beats at 0 and 10, silent until 50: covered 0..30 and 50..60
    beats = _at(0, 10, 50)
    assert covered_seconds(beats, GRACE, T0, T0 + timedelta(hours=1)) == (30 + 10) * 60


def test_beats_outside_the_window_are_clipped() -> None:
    beats = _at(-15, 55)
    assert covered_seconds(beats, GRACE, T0, T0 + timedelta(hours=1)) == (5 + 5) * 60
    assert covered_seconds([], GRACE, T0, T0 + timedelta(hours=1)) == 0


def test_availability_adds_up_and_has_no_percent_without_a_window() -> None:
    total = Availability(100, 50) + Availability(300, 300)
    assert total.pct == pytest.approx(87.5)
    assert Availability(0, 0).pct is None


def test_item_ids_name_their_occurrence_and_bulletin() -> None:
    assert occurrence_key("ann-7@20261103T000000Z#1+30000ms") == "ann-7@20261103T000000Z"
    assert bulletin_key("ann-7@20261103T000000Z#1+30000ms") == "ann-7"
    assert bulletin_key("emg-ab12cd") == "emg-ab12cd"
