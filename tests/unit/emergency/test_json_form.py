"""The JSON form is the same alert: it validates strictly and maps like CAP XML."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from controller.upstream_alerts.errors import AlertRejected
from controller.upstream_alerts.json_form import AlertIn
from controller.upstream_alerts.mapping import BroadcastKind, ZoneMap, decide


def flood(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifier": "TTDB-2026-10-28-01",
        "sender": "kttv@nchmf.gov.vn",
        "sent": "2026-10-28T06:00:00+07:00",
        "info": [
            {
                "event": "Lũ quét",
                "urgency": "Immediate",
                "severity": "Extreme",
                "certainty": "Observed",
                "headline": "Cảnh báo lũ quét",
                "description": "Mưa lớn trên thượng nguồn sông Bồ.",
                "instruction": "Bà con thôn Đông An di dời ngay lên nhà văn hóa.",
                "expires": "2026-10-28T12:00:00+07:00",
                "areas": [
                    {
                        "description": "Thôn Đông An",
                        "geocodes": [{"value_name": "MA_XA", "value": "19765"}],
                        "polygons": ["16.5,107.4 16.6,107.4 16.6,107.5 16.5,107.4"],
                    }
                ],
            }
        ],
    }
    body.update(changes)
    return body


def test_json_flood_alert_becomes_an_emergency() -> None:
    alert = AlertIn.model_validate(flood()).to_cap()
    assert alert.msg_type == "Alert" and alert.status == "Actual"
    decision = decide(alert, ZoneMap(geocodes={("MA_XA", "19765"): {"xa-dong-an"}}))
    assert decision is not None and decision.kind is BroadcastKind.EMERGENCY
    assert decision.zones == ["xa-dong-an"]
    assert decision.text.endswith("di dời ngay lên nhà văn hóa.")


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"sent": "2026-10-28T06:00:00"}, "sent"),
        ({"status": "Real"}, "status"),
        ({"urgent": True}, "urgent"),
        ({"identifier": ""}, "identifier"),
    ],
)
def test_bad_json_is_refused_naming_the_field(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AlertIn.model_validate(flood(**changes))
    assert where in str(caught.value)


def test_bad_reference_or_polygon_is_refused() -> None:
    with pytest.raises(AlertRejected, match="sender,identifier,sent"):
        AlertIn.model_validate(flood(msg_type="Cancel", references=["only-an-id"])).to_cap()
    body = flood()
    body["info"][0]["areas"][0]["polygons"] = ["16.5,107.4 16.6,107.4"]
    with pytest.raises(AlertRejected, match="at least 4 points"):
        AlertIn.model_validate(body).to_cap()
