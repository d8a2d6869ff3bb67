"""Emergency request rules that need no broker: timing checks, the active window, CLI body."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from cli.commands.emergency import build_body
from cli.errors import CliError
from controller.services.emergency import (
    LATE_JOIN,
    EmergencyError,
    EmergencyRequest,
    _active_until,
    _check_timing,
)

NOW = datetime(2026, 10, 28, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (EmergencyRequest([], text="x"), "at least one zone"),
        (EmergencyRequest(["z"]), "exactly one of text or media_sha256"),
        (EmergencyRequest(["z"], text="x", media_sha256="0" * 64), "exactly one"),
        (EmergencyRequest(["z"], text="x", until=NOW), "until is in the past"),
        (EmergencyRequest(["z"], text="x", until=NOW + timedelta(days=8)), "7 days"),
        (EmergencyRequest(["z"], text="x", repeat_every_s=300), "needs --repeat"),
    ],
)
def test_bad_requests_are_refused(request_: EmergencyRequest, reason: str) -> None:
    with pytest.raises(EmergencyError, match=reason):
        _check_timing(request_, NOW)


def test_the_active_window_is_the_end_time_or_the_plays_plus_a_late_join_margin() -> None:
    until = NOW + timedelta(hours=2)
    assert _active_until(EmergencyRequest(["z"], text="x", until=until), NOW, 20) == until
    three = EmergencyRequest(["z"], text="x", repeat=3)
    assert _active_until(three, NOW, 20) == NOW + timedelta(seconds=60) + LATE_JOIN
    spaced = EmergencyRequest(["z"], text="x", repeat=4, repeat_every_s=300)
    assert _active_until(spaced, NOW, 20) == NOW + timedelta(minutes=20) + LATE_JOIN


def args(**given: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "zone": ["xa-a"],
        "text": "Khẩn cấp",
        "media": None,
        "title": None,
        "repeat": 1,
        "every": None,
        "until": None,
        "volume": None,
    }
    return argparse.Namespace(**{**base, **given})


def test_cli_body_carries_every_option() -> None:
    body = build_body(args(repeat=6, every=5.0, until="2026-10-28T18:00+07:00", volume=90))
    assert body == {
        "zones": ["xa-a"],
        "repeat": 6,
        "text": "Khẩn cấp",
        "until": "2026-10-28T18:00:00+07:00",
        "every_min": 5.0,
        "volume": 90,
    }


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"zone": []}, "--zone"),
        ({"text": None}, "exactly one of --text or --media"),
        ({"until": "tomorrow"}, "not an ISO"),
        ({"until": "2026-10-28T18:00"}, "UTC offset"),
    ],
)
def test_cli_refuses_before_contacting_the_controller(
    given: dict[str, object], reason: str
) -> None:
    with pytest.raises(CliError, match=reason):
        build_body(args(**given))
