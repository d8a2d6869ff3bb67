"""What a CAP alert becomes (pure): emergency vs announcement, Vietnamese blocks only, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.upstream_alerts.mapping import (
    BroadcastKind,
    ZoneMap,
    classify,
    decide,
    point_in_polygon,
    within_circle,
)
from controller.upstream_alerts.model import CapInfo
from controller.upstream_alerts.parse import parse_cap

EXAMPLES = Path(__file__).with_name("cap_examples")
STORM_POLYGON = [
    (38.47, -120.14),
    (38.34, -119.95),
    (38.52, -119.74),
    (38.62, -119.89),
    (38.47, -120.14),
]


def info(urgency: str, severity: str, certainty: str) -> CapInfo:
    return CapInfo("vi-VN", "Lũ quét", urgency, severity, certainty)


@pytest.mark.parametrize("urgency", ["Immediate", "Expected"])
@pytest.mark.parametrize("severity", ["Extreme", "Severe"])
@pytest.mark.parametrize("certainty", ["Observed", "Likely"])
def test_urgent_serious_probable_is_an_emergency(
    urgency: str, severity: str, certainty: str
) -> None:
    assert classify(info(urgency, severity, certainty)) is BroadcastKind.EMERGENCY


@pytest.mark.parametrize(
    ("urgency", "severity", "certainty"),
    [
        ("Future", "Extreme", "Observed"),
        ("Past", "Severe", "Observed"),
        ("Immediate", "Moderate", "Observed"),
        ("Immediate", "Extreme", "Possible"),
        ("Unknown", "Unknown", "Unknown"),
    ],
)
def test_anything_less_is_an_announcement(urgency: str, severity: str, certainty: str) -> None:
    assert classify(info(urgency, severity, certainty)) is BroadcastKind.ANNOUNCEMENT


def test_point_in_the_storm_polygon() -> None:
    assert point_in_polygon((38.48, -119.9), STORM_POLYGON)
    assert not point_in_polygon((38.30, -120.10), STORM_POLYGON)
    assert not point_in_polygon((21.03, 105.85), STORM_POLYGON)  # Hà Nội


def test_circle_radius_in_kilometres() -> None:
    hue = (16.4637, 107.5909)
    assert within_circle((16.47, 107.60), (hue, 2.0))  # about 1.2 km away
    assert not within_circle((16.55, 107.60), (hue, 5.0))  # about 9.6 km away


def test_storm_reaches_zones_by_geocode_and_by_node_position() -> None:
    alert = parse_cap((EXAMPLES / "a2_severe_thunderstorm.xml").read_bytes())
    zones = ZoneMap(
        geocodes={("SAME", "006109"): {"thon-a"}, ("SAME", "999999"): {"thon-x"}},
        node_points=[("thon-b", (38.48, -119.9)), ("thon-c", (21.03, 105.85))],
    )
    decision = decide(alert, zones)
    assert decision is not None
    assert decision.kind is BroadcastKind.EMERGENCY
    assert decision.zones == ["thon-a", "thon-b"]
    assert decision.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)
    assert decision.title == "CẢNH BÁO DÔNG BÃO MẠNH"


def test_only_the_vietnamese_block_of_a_multilingual_alert_is_read() -> None:
    alert = parse_cap((EXAMPLES / "a4_amber_alert.xml").read_bytes())
    decision = decide(alert, ZoneMap(geocodes={("SAME", "006037"): {"xa-a"}}))
    assert decision is not None
    assert decision.title == "Báo động Amber tại hạt Los Angeles"
    assert "Amber Alert" not in decision.text and "Nạn nhân" in decision.text


def test_an_alert_without_vietnamese_is_not_broadcast() -> None:
    data = (EXAMPLES / "a4_amber_alert.xml").read_bytes().replace(b"vi-VN", b"es-US")
    assert decide(parse_cap(data), ZoneMap(geocodes={("SAME", "006037"): {"xa-a"}})) is None


def test_minor_past_earthquake_is_an_announcement() -> None:
    alert = parse_cap((EXAMPLES / "a3_earthquake_update.xml").read_bytes())
    decision = decide(alert, ZoneMap(node_points=[("xa-b", (32.9525, -115.5527))]))
    assert decision is not None and decision.kind is BroadcastKind.ANNOUNCEMENT
    assert decision.zones == ["xa-b"]  # a zero-radius circle still holds its centre
