"""Conflict checks for the panel, and the republish gate."""

from __future__ import annotations

from unit.schedules.schedule_builders import audio, daily, slot, stream, utc

from protocol.models import Priority
from schedules import RepublishGate, check_conflicts

WINDOW = (utc("2025-03-03 00:00"), utc("2025-03-04 00:00"))
NODES = {"loa-1": frozenset({"xa", "thon-1"}), "loa-2": frozenset({"xa", "thon-2"})}
MORNING = slot("sang", "05:30", 300)


def test_candidate_that_wins_reports_the_losers_per_node() -> None:
    existing = [stream("vov", 1800, rule=daily("06:00")), audio("tb", 60, rule=daily("06:10"))]
    urgent = audio(
        "khan", 120, priority=Priority.EMERGENCY, rule=daily("06:09"), targets={"zones": ["thon-1"]}
    )
    conflicts = check_conflicts(urgent, existing, NODES, WINDOW)
    assert {
        (c.node_id, c.loser_item.split("@")[0], c.winner_item, c.reason) for c in conflicts
    } == {
        ("loa-1", "vov", "khan@20250302T230900Z#0", "shortened: overlaps higher-priority item"),
        ("loa-1", "tb", "khan@20250302T230900Z#0", "bumped: overlaps higher-priority item"),
    }


def test_candidate_that_loses_is_reported_and_slot_full_counts() -> None:
    existing = [audio("dai", 280, slot="sang", created_seq=1)]
    late = audio("muon", 60, slot="sang", created_seq=2)
    conflicts = check_conflicts(late, existing, NODES, WINDOW, slots=[MORNING])
    assert sorted((c.node_id, c.loser_item.split("@")[0], c.reason) for c in conflicts) == [
        ("loa-1", "muon", "bumped: slot full"),
        ("loa-2", "muon", "bumped: slot full"),
    ]


def test_no_conflict_when_times_do_not_meet_and_existing_clashes_are_not_blamed() -> None:
    existing = [audio("a", 60, rule=daily("07:00")), audio("b", 60, rule=daily("07:00:30"))]
    quiet = audio("yen", 60, rule=daily("09:00"))
    assert check_conflicts(quiet, existing, NODES, WINDOW) == []


def test_editing_an_entry_replaces_it() -> None:
    existing = [audio("tb", 60, rule=daily("07:00")), audio("khac", 60, rule=daily("08:00"))]
    moved = audio("tb", 60, rule=daily("08:00:30"), created_seq=5)
    conflicts = check_conflicts(moved, existing, NODES, WINDOW)
    assert {c.loser_item.split("@")[0] for c in conflicts} == {"tb"}
    assert {c.winner_item for c in conflicts} == {"khac@20250303T010000Z#0"}


def test_republish_gate_publishes_only_changes() -> None:
    gate = RepublishGate({"loa-1": "h1"})
    assert not gate.needs_publish("loa-1", "h1")
    assert gate.needs_publish("loa-1", "h2")
    assert gate.needs_publish("loa-2", "h1")
    gate.mark_published("loa-2", "h1")
    assert not gate.needs_publish("loa-2", "h1")
    gate.forget("loa-2")
    assert gate.needs_publish("loa-2", "h1")
