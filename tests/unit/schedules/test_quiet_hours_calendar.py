"""Quiet hours and volume caps in the calendar: refusal at scheduling time, filtering and
capping at compile time (local Vietnam time, windows crossing midnight)."""

from __future__ import annotations

from unit.schedules.schedule_builders import audio, daily, once, slot, stream, utc

from protocol.models import Priority
from protocol.quiet_hours import parse_quiet_hours
from schedules import compile_node_playlist
from schedules.quiet_hours import HornPolicy, apply_horn_policy, quiet_hits, quiet_message
from schedules.results import BumpReason

NIGHT = parse_quiet_hours("21:30-05:00")
WEEK = (utc("2025-03-03 00:00"), utc("2025-03-10 00:00"))  # Monday to Monday


def test_a_daily_notice_reaching_into_the_night_is_refused_every_day() -> None:
    entry = audio("tin-toi", 45 * 60, rule=daily("21:00"))
    hits = quiet_hits(entry, NIGHT, WEEK)
    assert len(hits) == 7
    assert hits[0].start == utc("2025-03-03 21:00")
    message = quiet_message(hits)
    assert message.startswith("falls in quiet hours: 03/03/2025 21:00 (quiet hours 21:30-05:00)")
    assert message.endswith("and 4 more; only emergencies may play then")


def test_edges_of_a_midnight_window() -> None:
    before = audio("a", 30 * 60, rule=daily("21:00"))  # ends exactly at 21:30
    after = audio("b", 60, rule=daily("05:00"))  # starts exactly at 05:00
    early = audio("c", 15 * 60, rule=daily("04:50"))  # still quiet until 05:00
    assert quiet_hits(before, NIGHT, WEEK) == []
    assert quiet_hits(after, NIGHT, WEEK) == []
    assert len(quiet_hits(early, NIGHT, WEEK)) == 7


def test_a_recurring_rule_that_hits_quiet_hours_on_some_days_only() -> None:
    # Saturdays at 12:00 and 22:00: only the Saturday night occurrence is in quiet hours
    rule = {
        "freq": "rrule",
        "start_date": "2025-01-04",
        "time": "12:00",
        "rrule": "FREQ=WEEKLY;BYDAY=SA;BYHOUR=12,22;BYMINUTE=0",
    }
    entry = audio("thu-bay", 120, rule=rule)
    hits = quiet_hits(entry, NIGHT, WEEK)
    assert [h.start for h in hits] == [utc("2025-03-08 22:00")]
    weekday_only = audio(
        "ngay-thuong",
        120,
        rule={
            "freq": "weekly",
            "start_date": "2025-01-01",
            "time": "21:20",
            "weekdays": ["MO", "SU"],
        },
    )
    assert quiet_hits(weekday_only, NIGHT, WEEK) == []


def test_emergencies_and_zones_without_windows_are_never_refused() -> None:
    entry = audio("khan", 60, rule=daily("23:00"), priority=int(Priority.EMERGENCY))
    assert quiet_hits(entry, NIGHT, WEEK) == []
    assert quiet_hits(audio("x", 60, rule=daily("23:00")), (), WEEK) == []


def test_an_entry_packed_into_a_late_slot_is_refused() -> None:
    evening = slot("ban-tin-toi", "21:00", 3600)
    entry = audio("trong-slot", 20 * 60, slot="ban-tin-toi", rule=daily(None))
    second = audio("sau", 20 * 60, slot="ban-tin-toi", rule=daily(None))
    assert quiet_hits(entry, NIGHT, WEEK, slots=[evening]) == []  # 21:00-21:20 alone
    assert len(quiet_hits(second, parse_quiet_hours("21:10-22:00"), WEEK, slots=[evening])) == 7


def test_compile_drops_quiet_items_caps_volumes_and_changes_the_hash() -> None:
    day = (utc("2025-03-03 00:00"), utc("2025-03-04 00:00"))
    entries = [
        audio("sang", 60, rule=once("2025-03-03", "06:00"), volume=95),
        audio("dem", 60, rule=once("2025-03-03", "22:00")),
        audio("bao-dong", 60, rule=once("2025-03-03", "23:00"), priority=int(Priority.EMERGENCY)),
        stream("vov", 1800, rule=once("2025-03-03", "04:45")),
    ]
    plain = compile_node_playlist("n1", frozenset({"xa"}), entries, *day)
    assert len(plain.items) == 4
    assert apply_horn_policy(plain, HornPolicy()) is plain  # no policy: unchanged, same hash

    safe = apply_horn_policy(plain, HornPolicy(volume_cap=70, quiet=NIGHT))
    assert [i.id.split("@")[0] for i in safe.items] == ["sang", "bao-dong"]
    assert safe.items[0].volume == 70
    assert safe.volume_cap == 70 and safe.quiet_hours == ("21:30-05:00",)
    dropped = {b.entry_id for b in safe.bumped if b.reason is BumpReason.QUIET_HOURS}
    assert dropped == {"dem", "vov"}
    assert safe.content_hash != plain.content_hash
    louder = apply_horn_policy(plain, HornPolicy(volume_cap=80, quiet=NIGHT))
    assert louder.content_hash != safe.content_hash  # a new cap is a new playlist
