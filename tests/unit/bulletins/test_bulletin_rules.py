"""The pure rules of bulletins: where a priority bulletin goes, reordering only among
priority items, and the approval state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.services.approval import (
    AIRABLE,
    ApprovalError,
    initial_state,
    may_air,
    transition,
)
from controller.services.bulletin_rules import (
    BulletinRuleError,
    Placement,
    next_rank,
    place_priority,
    reorder_priority,
)

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
WINDOW = timedelta(hours=6)
LEAD = timedelta(seconds=5)


def _at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def test_priority_goes_to_the_earliest_slot_run_in_the_window() -> None:
    runs = [("chieu", _at(5)), ("trua", _at(3)), ("sang-mai", _at(22))]
    assert place_priority(runs, NOW, WINDOW, LEAD) == Placement("trua", _at(3))


def test_priority_airs_at_once_without_a_slot_in_the_window() -> None:
    runs = [("sang-mai", _at(22)), ("hom-qua", _at(-2))]
    assert place_priority(runs, NOW, WINDOW, LEAD) == Placement(None, NOW + LEAD)


def test_a_slot_starting_sooner_than_the_lead_is_skipped() -> None:
    runs = [("dang-bat-dau", NOW + timedelta(seconds=2)), ("sau", _at(1))]
    assert place_priority(runs, NOW, WINDOW, LEAD) == Placement("sau", _at(1))


def test_the_window_end_is_exclusive_and_ties_go_to_the_smaller_id() -> None:
    assert place_priority([("x", _at(6))], NOW, WINDOW, LEAD).slot_id is None
    assert place_priority([("b", _at(2)), ("a", _at(2))], NOW, WINDOW, LEAD).slot_id == "a"


def test_a_new_priority_item_ranks_after_the_priority_items_already_there() -> None:
    assert next_rank([]) == 0
    assert next_rank([None, None]) == 0  # normal items only
    assert next_rank([0, None, 2]) == 3


def test_operators_reorder_priority_items_among_themselves() -> None:
    current = [(10, True), (11, True), (12, False)]
    assert reorder_priority(current, [11, 10]) == {11: 0, 10: 1}


def test_a_normal_item_cannot_be_moved_among_the_priority_ones() -> None:
    with pytest.raises(BulletinRuleError, match="only priority items"):
        reorder_priority([(10, True), (12, False)], [12, 10])


@pytest.mark.parametrize("wanted", [[10], [10, 11, 11], [10, 11, 99]])
def test_a_reorder_must_name_every_priority_item_once(wanted: list[int]) -> None:
    with pytest.raises(BulletinRuleError, match="exactly once"):
        reorder_priority([(10, True), (11, True)], wanted)


def test_only_approved_and_not_required_items_may_air() -> None:
    assert {"approved", "not_required"} == AIRABLE
    assert [
        s for s in ("draft", "pending", "approved", "rejected", "not_required") if may_air(s)
    ] == [
        "approved",
        "not_required",
    ]


def test_new_items_wait_only_in_communes_that_need_approval() -> None:
    assert initial_state(False) == "not_required"
    assert initial_state(False, draft=True) == "not_required"
    assert initial_state(True) == "pending"
    assert initial_state(True, draft=True) == "draft"


def test_draft_reject_edit_approve() -> None:
    state = transition("draft", "submit")
    assert state == "pending"
    state = transition(state, "reject")
    assert state == "rejected" and not may_air(state)
    state = transition(state, "edit")
    assert state == "pending"
    state = transition(state, "approve")
    assert state == "approved" and may_air(state)


def test_editing_an_approved_item_sends_it_back_to_approval() -> None:
    assert transition("approved", "edit") == "pending"
    assert transition("not_required", "edit") == "not_required"
    assert transition("draft", "edit") == "draft"


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", "approve"),  # an approver sees only submitted items
        ("approved", "approve"),
        ("rejected", "approve"),
        ("approved", "reject"),
        ("not_required", "approve"),
        ("not_required", "submit"),
        ("pending", "submit"),
    ],
)
def test_steps_that_do_not_apply_are_refused(state: str, action: str) -> None:
    with pytest.raises(ApprovalError, match=f"cannot {action}"):
        transition(state, action)  # type: ignore[arg-type]
