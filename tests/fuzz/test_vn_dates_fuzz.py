"""Whatever is typed into a panel date/time field: a real date in 2000-2099 (or a time of
day), or BadDateTime with a message key the catalogues have; never another exception, never
a garbage year. Formatting then parsing gives back the same instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fuzz.budget import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from controller.panel.i18n import messages
from controller.panel.vn_dates import (
    MAX_YEAR,
    MIN_YEAR,
    BadDateTime,
    fmt_date,
    fmt_local_datetime,
    parse_date,
    parse_datetime,
    parse_time,
)

TYPED = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789/:-. hT", max_size=24),
    st.builds(
        "{}/{}/{}".format,
        st.integers(-5, 40),
        st.integers(-5, 15),
        st.integers(0, 30000),
    ),
)


def _refused(exc: BadDateTime) -> None:
    assert exc.key in messages("vi") and exc.key in messages("en")


@fuzz_settings(300)
@given(TYPED)
def test_any_typed_date_is_a_sane_date_or_a_reason(typed: str) -> None:
    try:
        day = parse_date(typed)
    except BadDateTime as exc:
        _refused(exc)
        return
    assert MIN_YEAR <= day.year <= MAX_YEAR
    assert parse_date(fmt_date(day)) == day


@fuzz_settings(200)
@given(TYPED)
def test_any_typed_time_or_datetime_is_sane_or_a_reason(typed: str) -> None:
    for parse in (parse_time, parse_datetime):
        try:
            parse(typed)
        except BadDateTime as exc:
            _refused(exc)


@fuzz_settings(300)
@given(st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30)))
def test_shown_then_typed_back_is_the_same_minute(naive: datetime) -> None:
    at = naive.replace(second=0, microsecond=0, tzinfo=UTC)
    assert parse_datetime(fmt_local_datetime(at)) == at
    assert parse_datetime(fmt_local_datetime(at)) - at < timedelta(minutes=1)
    assert isinstance(parse_date(fmt_date(at.date())), date)
