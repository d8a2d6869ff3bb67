"""Relays (e.g. VOV1 06:00-06:30 every day, with a fallback recording) as the panel edits them.

A relay is a ``stream`` schedule entry; this module turns the form into one, checks it the way
the JSON API does (model, media references, not in the past, quiet hours), and stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import ScheduleEntryRow
from controller.panel import vn_dates
from controller.services.horn import QuietHoursConflict
from controller.services.quiet_guard import refuse_in_quiet_hours
from controller.services.schedule_editing import (
    ScheduleInputError,
    build_entry,
    check_not_past,
    check_references,
    media_ref,
)
from controller.services.schedule_store import active_entry_rows, save_entry
from protocol.models import Priority
from schedules import ScheduleEntry
from schedules.millis import to_ms

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RelayFormError(ValueError):
    """The form cannot become a relay (``key`` is the i18n message, ``reason`` its detail)."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(reason or key)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class RelayForm:
    title: str
    stream_url: str
    zones: list[str]
    time_of_day: str
    minutes: int
    weekdays: list[str]
    start_date: str
    fallback_sha256: str = ""


def form_of(row: ScheduleEntryRow) -> RelayForm:
    spec = row.spec
    rule = spec.get("rule") or {}
    return RelayForm(
        title=spec.get("title", ""),
        stream_url=spec.get("stream_url", ""),
        zones=list((spec.get("targets") or {}).get("zones") or []),
        time_of_day=str(rule.get("time", ""))[:5],
        minutes=int(float(spec.get("duration_s") or 0) // 60),
        weekdays=list(rule.get("weekdays") or []),
        start_date=_shown_date(str(rule.get("start_date", ""))),
        fallback_sha256=(spec.get("fallback") or {}).get("sha256", ""),
    )


def _shown_date(iso: str) -> str:
    try:
        return vn_dates.fmt_date(date.fromisoformat(iso))
    except ValueError:
        return iso


def relay_rows(session: Session, scope: Scope) -> list[ScheduleEntryRow]:
    """Live stream entries reaching the caller's communes."""
    return [
        r
        for r in active_entry_rows(session)
        if r.spec.get("kind") == "stream"
        and scope.sees((r.spec.get("targets") or {}).get("zones") or [], [])
    ]


def save_relay(
    session: Session,
    scope: Scope,
    form: RelayForm,
    entry_id: str,
    now: datetime,
    username: str,
) -> ScheduleEntry:
    """Validate and store (not committed); RelayFormError with the reason when refused."""
    if not form.zones:
        raise RelayFormError("relay.error_zones")
    if not scope.allows_targets(form.zones, []):
        raise RelayFormError("ann.error_scope")
    weekdays = [d for d in form.weekdays if d in WEEKDAYS]
    try:  # typed the Vietnamese way (dd/mm/yyyy, 24 h) whatever the browser's language
        first = vn_dates.parse_date(form.start_date).isoformat()
        at = vn_dates.parse_time(form.time_of_day).strftime("%H:%M")
    except vn_dates.BadDateTime as exc:
        raise RelayFormError(exc.key, exc.value) from None
    rule: dict[str, Any] = {"start_date": first, "time": at}
    rule |= {"freq": "weekly", "weekdays": weekdays} if weekdays else {"freq": "daily"}
    data: dict[str, Any] = {
        "id": entry_id,
        "kind": "stream",
        "title": form.title,
        "stream_url": form.stream_url,
        "duration_s": form.minutes * 60,
        "priority": int(Priority.RELAY),
        "targets": {"zones": sorted(set(form.zones)), "nodes": []},
        "rule": rule,
    }
    old = session.get(ScheduleEntryRow, entry_id)
    data["created_seq"] = old.created_seq if old is not None else to_ms(now)
    try:
        fallback = media_ref(session, form.fallback_sha256 or None)
        if fallback is not None:
            data["fallback"] = fallback
        entry = build_entry(data)
        check_references(session, entry)
        check_not_past(entry, now)
    except ScheduleInputError as exc:
        raise RelayFormError("relay.error_invalid", exc.reason) from None
    try:
        refuse_in_quiet_hours(session, entry, now)
    except QuietHoursConflict as exc:
        raise RelayFormError("ann.error_quiet", exc.when) from None
    save_entry(session, entry, now, created_by=username)
    return entry
