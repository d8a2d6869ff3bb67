"""The broadcast calendar as pure logic: rules, slots, priorities, per-node playlists.

No I/O and no clock reads: the caller passes the time window in. See ``docs/schedules.md``.
"""

from schedules.compiler import compile_fleet, compile_node_playlist, content_hash
from schedules.conflicts import check_conflicts
from schedules.entries import Programme, ProgrammeSlot, ScheduleEntry, Targets
from schedules.errors import ScheduleError
from schedules.recurrence import occurrences
from schedules.republish import RepublishGate
from schedules.results import Bump, BumpAction, BumpReason, CompileResult, Conflict
from schedules.rules import (
    DailyRule,
    MonthlyRule,
    OnceRule,
    RRuleRule,
    Rule,
    Weekday,
    WeeklyRule,
)

__all__ = [
    "Bump",
    "BumpAction",
    "BumpReason",
    "CompileResult",
    "Conflict",
    "DailyRule",
    "MonthlyRule",
    "OnceRule",
    "Programme",
    "ProgrammeSlot",
    "RRuleRule",
    "RepublishGate",
    "Rule",
    "ScheduleEntry",
    "ScheduleError",
    "Targets",
    "Weekday",
    "WeeklyRule",
    "check_conflicts",
    "compile_fleet",
    "compile_node_playlist",
    "content_hash",
    "occurrences",
]
