"""CAP 1.2 parsing: the specification's examples parse; anything malformed or dangerous is
refused with a reason before any broadcast could happen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from controller.upstream_alerts.errors import AlertRejected
from controller.upstream_alerts.parse import MAX_BYTES, parse_cap

EXAMPLES = Path(__file__).with_name("cap_examples")


def example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def test_thunderstorm_example_reads_every_field_that_decides_a_broadcast() -> None:
    alert = parse_cap(example("a2_severe_thunderstorm.xml"))
    assert (alert.identifier, alert.sender) == ("KSTO1055887203", "KSTO@NWS.NOAA.GOV")
    assert alert.sent == datetime(2003, 6, 17, 21, 57, tzinfo=UTC)
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    (info,) = alert.infos
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Severe", "Observed")
    assert info.is_vietnamese and info.expires == datetime(2003, 6, 17, 23, 0, tzinfo=UTC)
    (area,) = info.areas
    assert area.geocodes == [("SAME", "006109"), ("SAME", "006009"), ("SAME", "006003")]
    assert area.polygons[0][0] == (38.47, -120.14) and len(area.polygons[0]) == 5
    assert info.spoken_text.startswith("CẢNH BÁO DÔNG BÃO MẠNH\nLúc 14 giờ 54")
    assert info.spoken_text.endswith("CHO ĐẾN KHI CƠN DÔNG ĐI QUA.")


def test_earthquake_update_carries_its_reference_and_circle() -> None:
    alert = parse_cap(example("a3_earthquake_update.xml"))
    assert alert.msg_type == "Update"
    (ref,) = alert.references
    assert (ref.sender, ref.identifier) == ("trinet@caltech.edu", "TRI13970876.1")
    assert alert.infos[0].areas[0].circles == [((32.9525, -115.5527), 0.0)]


def test_multilingual_amber_alert_keeps_both_languages() -> None:
    alert = parse_cap(example("a4_amber_alert.xml"))
    assert [i.language for i in alert.infos] == ["en-US", "vi-VN"]
    assert [i.is_vietnamese for i in alert.infos] == [False, True]


def test_homeland_security_example_has_an_area_without_geometry() -> None:
    alert = parse_cap(example("a1_homeland_security.xml"))
    area = alert.infos[0].areas[0]
    assert area.geocodes == [] and area.polygons == [] and area.circles == []
    assert alert.expires() is None


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;</identifier></alert>"""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "refused XML: DTDForbidden"),
        (EXTERNAL_ENTITY, "refused XML: DTDForbidden"),
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</alert>", "malformed"),
        (b"", "malformed XML"),
        (b"\xff\xfe not xml", "malformed XML"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "not a CAP 1.2 alert"),
        (
            b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'><identifier/></alert>",
            "not a CAP 1.2 alert",
        ),
    ],
)
def test_dangerous_or_malformed_xml_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(AlertRejected) as caught:
        parse_cap(data)
    assert reason in caught.value.reason
    assert caught.value.status == 422


def test_a_huge_document_is_refused_before_parsing() -> None:
    padding = b"<!--" + b"x" * MAX_BYTES + b"-->"
    with pytest.raises(AlertRejected) as caught:
        parse_cap(example("a2_severe_thunderstorm.xml") + padding)
    assert caught.value.status == 413 and "limit" in caught.value.reason


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"<identifier>KSTO1055887203</identifier>", b"", "identifier"),
        (b"<urgency>Immediate</urgency>", b"<urgency>Soon</urgency>", "urgency"),
        (b"<sent>2003-06-17T14:57:00-07:00</sent>", b"<sent>2003-06-17 14:57</sent>", "sent"),
        (b"<msgType>Alert</msgType>", b"<msgType>Panic</msgType>", "msgType"),
    ],
)
def test_schema_invalid_alerts_name_the_offending_element(
    old: bytes, new: bytes, where: str
) -> None:
    data = example("a2_severe_thunderstorm.xml").replace(old, new)
    with pytest.raises(AlertRejected) as caught:
        parse_cap(data)
    assert "not valid CAP 1.2" in caught.value.reason
    assert where in caught.value.reason


@pytest.mark.parametrize(
    ("polygon", "reason"),
    [
        (b"38.47,-120.14 38.34,-119.95 38.47,-120.14", "at least 4 points"),
        (b"38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89", "closed"),
        (b"98.47,-120.14 38.34,-119.95 38.52,-119.74 98.47,-120.14", "out of range"),
    ],
)
def test_bad_polygons_are_refused(polygon: bytes, reason: str) -> None:
    original = b"38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14"
    data = example("a2_severe_thunderstorm.xml").replace(original, polygon)
    with pytest.raises(AlertRejected) as caught:
        parse_cap(data)
    assert reason in caught.value.reason
