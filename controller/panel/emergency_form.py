"""The panel's emergency form: parse and check it, say what it would do, build the request.

Checked before the confirmation page so that page never promises something the service
would refuse; the service checks again when the second POST issues it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.auth.scope import Scope
from controller.db.models import Media, Zone
from controller.panel import vn_dates
from controller.services.emergency import MAX_ACTIVE, EmergencyRequest
from controller.services.zones import ZoneTree, nodes_reached

_SHA = re.compile(r"^[0-9a-f]{64}$")


class FormRefused(ValueError):
    """The form cannot become an emergency; ``key`` is the i18n message, ``reason`` detail."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(reason or key)
        self.key = key
        self.reason = reason


class OutsideScope(PermissionError):
    """A target zone lies outside the user's communes."""


class EmergencyForm(BaseModel):
    """The form's fields as posted, unchecked; one model for the confirm and the issue POST.

    Routes take it as ``Annotated[EmergencyForm, Form()]``: FastAPI fills it from the form
    body (an empty field gets the default, extra fields such as csrf and token are left to
    their own parameters) and answers 422 for an over-long field before any route code runs.
    """

    model_config = ConfigDict(frozen=True)

    zones: tuple[str, ...] = ()
    text: str = Field("", max_length=10_000)
    media_sha256: str = Field("", max_length=64)
    repeat: str = Field("1", max_length=64)
    every_min: str = Field("", max_length=64)
    until: str = Field("", max_length=64)

    def fields(self) -> dict[str, object]:
        """What the confirmation token is bound to (order of zones does not matter)."""
        return {
            "zones": sorted(set(self.zones)),
            "text": self.text.strip(),
            "media_sha256": self.media_sha256.strip(),
            "repeat": self.repeat.strip(),
            "every_min": self.every_min.strip(),
            "until": self.until.strip(),
        }


def zone_rows(zones: list[Zone]) -> list[tuple[Zone, int]]:
    """The zones as a tree, depth first (a commune, then its villages), with each depth, so
    the form shows one row per zone under its parent; a zone whose parent is not listed
    (outside the user's communes) starts a tree of its own."""
    listed = {z.id for z in zones}
    children: dict[str | None, list[Zone]] = {}
    for zone in zones:
        parent = zone.parent_id if zone.parent_id in listed else None
        children.setdefault(parent, []).append(zone)
    rows: list[tuple[Zone, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for zone in sorted(children.get(parent, []), key=lambda z: z.name):
            rows.append((zone, depth))
            walk(zone.id, depth + 1)

    walk(None, 0)
    return rows


@dataclass(frozen=True)
class Checked:
    request: EmergencyRequest
    zone_names: list[str]
    node_count: int


def _number(value: str, kind: type[int] | type[float], low: float, high: float, key: str) -> float:
    try:
        number = kind(value.strip())
    except ValueError:
        raise FormRefused(key, value) from None
    if not low <= number <= high:
        raise FormRefused(key, value)
    return number


def check(session: Session, scope: Scope, form: EmergencyForm, now: datetime) -> Checked:
    """The request the form describes; FormRefused if bad, OutsideScope if not allowed."""
    zones = list(dict.fromkeys(z.strip() for z in form.zones if z.strip()))
    if not zones:
        raise FormRefused("emg.error_zones")
    if not scope.allows_targets(zones, []):
        raise OutsideScope(", ".join(z for z in zones if not scope.allows_zone(z)))
    known = {z.id: z.name for z in session.scalars(select(Zone).where(Zone.id.in_(zones)))}
    if len(known) != len(zones):
        raise FormRefused("emg.error_zones", ", ".join(z for z in zones if z not in known))
    text, sha = form.text.strip(), form.media_sha256.strip()
    if bool(text) == bool(sha):
        raise FormRefused("emg.error_source")
    if sha and (not _SHA.match(sha) or session.get(Media, sha) is None):
        raise FormRefused("emg.error_media", sha)
    repeat = int(_number(form.repeat or "1", int, 1, 1000, "emg.error_repeat"))
    every = (
        _number(form.every_min, float, 0.5, 24 * 60, "emg.error_every")
        if form.every_min.strip()
        else None
    )
    until = None
    if form.until.strip():
        try:
            until = vn_dates.parse_datetime(form.until)
        except vn_dates.BadDateTime as exc:
            raise FormRefused(exc.key, exc.value) from None
        if not now < until <= now + MAX_ACTIVE:
            raise FormRefused("emg.error_until", form.until)
    if every is not None and repeat < 2 and until is None:
        raise FormRefused("emg.error_every_needs_end")
    request = EmergencyRequest(
        zone_ids=zones,
        text=text or None,
        media_sha256=sha or None,
        repeat=repeat,
        repeat_every_s=every * 60 if every is not None else None,
        until=until,
    )
    reached = nodes_reached(session, ZoneTree.load(session), zones, [])
    return Checked(request, [known[z] for z in zones], len(reached))
