"""The quiet-hours parser on arbitrary text, and window arithmetic on arbitrary instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fuzz.budget import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from protocol.quiet_hours import DAY_MIN, QuietHoursError, QuietWindow, parse_quiet_hours

MINUTES = st.integers(min_value=0, max_value=DAY_MIN - 1)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@fuzz_settings(200)
@given(st.text(max_size=300))
def test_any_text_parses_or_is_refused_with_a_reason(text: str) -> None:
    try:
        windows = parse_quiet_hours(text)
    except QuietHoursError as exc:
        assert str(exc)
        return
    for window in windows:  # whatever parsed prints back to something that parses the same
        assert QuietWindow.parse(str(window)) == window


@fuzz_settings(150)
@given(MINUTES, MINUTES, INSTANTS)
def test_contains_agrees_with_spans(start: int, end: int, moment: datetime) -> None:
    window = QuietWindow(start, end)
    inside = window.contains(moment)
    tick = timedelta(microseconds=1)
    assert inside == bool(window.spans(moment, moment + tick))
    assert inside == window.overlaps(moment, moment + tick)


@fuzz_settings(100)
@given(MINUTES, MINUTES, INSTANTS, st.integers(min_value=1, max_value=3 * DAY_MIN))
def test_a_window_covers_its_length_every_day(
    start: int, end: int, moment: datetime, span: int
) -> None:
    window = QuietWindow(start, end)
    later = moment + timedelta(minutes=span)
    covered = sum(
        (min(hi, later) - max(lo, moment)).total_seconds() for lo, hi in window.spans(moment, later)
    )
    assert 0 <= covered <= span * 60
    if span >= DAY_MIN:
        assert covered >= window.length_min * 60 * (span // DAY_MIN) - 1
