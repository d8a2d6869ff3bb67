"""Report periods (month / quarter in Vietnam time), availability sums, item ids."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controller.services.reports.availability import Availability
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


def test_availability_adds_up_and_has_no_percent_without_a_window() -> None:
    total = Availability(100, 50) + Availability(300, 300)
    assert total.pct == pytest.approx(87.5)
    assert Availability(0, 0).pct is None


def test_item_ids_name_their_occurrence_and_bulletin() -> None:
    assert occurrence_key("ann-7@20261103T000000Z#1+30000ms") == "ann-7@20261103T000000Z"
    assert bulletin_key("ann-7@20261103T000000Z#1+30000ms") == "ann-7"
    assert bulletin_key("emg-ab12cd") == "emg-ab12cd"
