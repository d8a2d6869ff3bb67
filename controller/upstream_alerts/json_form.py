"""The simple JSON form of a CAP alert, for upstream systems that do not speak XML.

Same fields and values as CAP 1.2 (snake_case names), strictly validated; it becomes the
same :class:`CapAlert`, so both forms go through one mapping and one intake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from controller.upstream_alerts.model import CapAlert, CapArea, CapInfo
from controller.upstream_alerts.parse import parse_circle, parse_polygon, parse_references

Text = Annotated[str, Field(max_length=5000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must include its UTC offset, e.g. 2026-10-28T07:00:00+07:00")
    return value


Aware = Annotated[datetime, AfterValidator(_aware)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeocodeIn(_Strict):
    value_name: Name
    value: Name


class AreaIn(_Strict):
    description: Text
    geocodes: Annotated[list[GeocodeIn], Field(max_length=500)] = []
    polygons: Annotated[list[str], Field(max_length=50)] = []
    """CAP notation: ``"lat,lon lat,lon ..."`` (closed)."""
    circles: Annotated[list[str], Field(max_length=50)] = []


class InfoIn(_Strict):
    language: Annotated[str, Field(max_length=20)] = "vi-VN"
    event: Name
    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
    severity: Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
    headline: Text = ""
    description: Text = ""
    instruction: Text = ""
    expires: Aware | None = None
    areas: Annotated[list[AreaIn], Field(max_length=100)] = []


class AlertIn(_Strict):
    identifier: Name
    sender: Name
    sent: Aware
    status: Literal["Actual", "Exercise", "System", "Test", "Draft"] = "Actual"
    msg_type: Literal["Alert", "Update", "Cancel", "Ack", "Error"] = "Alert"
    scope: Literal["Public", "Restricted", "Private"] = "Public"
    references: Annotated[list[str], Field(max_length=100)] = []
    """Each ``"sender,identifier,sent"``."""
    info: Annotated[list[InfoIn], Field(max_length=20)] = []

    def to_cap(self) -> CapAlert:
        return CapAlert(
            identifier=self.identifier,
            sender=self.sender,
            sent=self.sent,
            status=self.status,
            msg_type=self.msg_type,
            scope=self.scope,
            references=parse_references(" ".join(self.references)),
            infos=[_info(i) for i in self.info],
        )


def _info(info: InfoIn) -> CapInfo:
    return CapInfo(
        language=info.language,
        event=info.event,
        urgency=info.urgency,
        severity=info.severity,
        certainty=info.certainty,
        headline=info.headline,
        description=info.description,
        instruction=info.instruction,
        expires=info.expires,
        areas=[
            CapArea(
                description=a.description,
                geocodes=[(g.value_name, g.value) for g in a.geocodes],
                polygons=[parse_polygon(p) for p in a.polygons],
                circles=[parse_circle(c) for c in a.circles],
            )
            for a in info.areas
        ],
    )
