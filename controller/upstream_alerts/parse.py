"""Untrusted CAP 1.2 XML → :class:`CapAlert`, or :class:`AlertRejected` with the reason.

Order matters: the size is checked before any parsing; ``defusedxml`` refuses any DTD (so
entity expansion — "billion laughs" — and external entities never run); only then is the
tree validated against the OASIS CAP 1.2 schema shipped beside this module
(``CAP-v1.2.xsd``, © OASIS Open 2010, under the OASIS IPR policy), and read.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from controller.upstream_alerts.errors import AlertRejected
from controller.upstream_alerts.model import CapAlert, CapArea, CapInfo, CapReference, Point

if TYPE_CHECKING:
    import xmlschema

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MAX_BYTES = 512 * 1024
"""Real alerts are a few KiB; embedded resources belong at a URI, not inline."""
SCHEMA_PATH = Path(__file__).with_name("CAP-v1.2.xsd")


@cache
def cap_schema() -> xmlschema.XMLSchema:
    """Loaded on the first alert: xmlschema costs ~0.3 s to import, paid otherwise by every
    controller start and every ``loa`` command."""
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def parse_cap(data: bytes) -> CapAlert:
    if len(data) > MAX_BYTES:
        raise AlertRejected(f"alert is {len(data)} bytes; the limit is {MAX_BYTES}", 413)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise AlertRejected(f"refused XML: {type(exc).__name__} (DTDs and entities)") from None
    except ParseError as exc:
        raise AlertRejected(f"malformed XML: {exc}") from None
    if root.tag != f"{{{NS}}}alert":
        raise AlertRejected(f"not a CAP 1.2 alert: root element is {root.tag!r}")
    error = next(iter(cap_schema().iter_errors(root)), None)
    if error is not None:
        where = error.path or "alert"
        raise AlertRejected(f"not valid CAP 1.2 at {where}: {error.reason or error.message}")
    return _alert(root)


def _text(el: Element, name: str, default: str = "") -> str:
    child = el.find(f"{{{NS}}}{name}")
    return (child.text or "").strip() if child is not None else default


def _all(el: Element, name: str) -> list[Element]:
    return el.findall(f"{{{NS}}}{name}")


def parse_time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise AlertRejected(f"{field}: {value!r} is not a date-time with offset") from None
    if parsed.tzinfo is None:
        raise AlertRejected(f"{field}: {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def _alert(root: Element) -> CapAlert:
    return CapAlert(
        identifier=_text(root, "identifier"),
        sender=_text(root, "sender"),
        sent=parse_time(_text(root, "sent"), "sent"),
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        scope=_text(root, "scope"),
        references=parse_references(_text(root, "references")),
        infos=[_info(i) for i in _all(root, "info")],
    )


def parse_references(value: str) -> list[CapReference]:
    """``sender,identifier,sent`` triples separated by whitespace (CAP 1.2 §3.2.1)."""
    refs: list[CapReference] = []
    for triple in value.split():
        parts = triple.split(",")
        if len(parts) != 3:
            raise AlertRejected(f"references: {triple!r} is not sender,identifier,sent")
        refs.append(CapReference(*parts))
    return refs


def _info(el: Element) -> CapInfo:
    expires = _text(el, "expires")
    return CapInfo(
        language=_text(el, "language", "en-US") or "en-US",
        event=_text(el, "event"),
        urgency=_text(el, "urgency"),
        severity=_text(el, "severity"),
        certainty=_text(el, "certainty"),
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        expires=parse_time(expires, "expires") if expires else None,
        areas=[_area(a) for a in _all(el, "area")],
    )


def _area(el: Element) -> CapArea:
    return CapArea(
        description=_text(el, "areaDesc"),
        geocodes=[(_text(g, "valueName"), _text(g, "value")) for g in _all(el, "geocode")],
        polygons=[parse_polygon(p.text or "") for p in _all(el, "polygon")],
        circles=[parse_circle(c.text or "") for c in _all(el, "circle")],
    )


def _point(pair: str) -> Point:
    try:
        lat_s, lon_s = pair.split(",")
        lat, lon = float(lat_s), float(lon_s)
    except ValueError:
        raise AlertRejected(f"bad coordinate pair {pair!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat + lon):
        raise AlertRejected(f"coordinate out of range {pair!r}")
    return lat, lon


def parse_polygon(value: str) -> list[Point]:
    points = [_point(p) for p in value.split()]
    if len(points) < 4 or points[0] != points[-1]:
        raise AlertRejected("a polygon needs at least 4 points and must be closed")
    return points


def parse_circle(value: str) -> tuple[Point, float]:
    centre, _, radius = value.strip().partition(" ")
    try:
        km = float(radius)
    except ValueError:
        raise AlertRejected(f"bad circle {value!r}: 'lat,lon radius_km'") from None
    if not 0 <= km <= 20_000:
        raise AlertRejected(f"bad circle radius {radius!r}")
    return _point(centre), km
