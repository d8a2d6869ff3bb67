"""One command builder for API, panel and CLI: the protocol model decides what is valid,
once, and its reason reaches the caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.services.commands import CommandRequestError, build_command
from protocol.clock import FakeClock
from protocol.models import CommandAction

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_valid_command_is_built_with_its_expiry() -> None:
    command = build_command(
        FakeClock(NOW), action=CommandAction.VOLUME, node_id="loa-1", volume=40, ttl=timedelta(60)
    )
    assert command.volume == 40 and command.issued_at == NOW
    assert command.expires_at == NOW + timedelta(60)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"action": CommandAction.VOLUME, "node_id": "loa-1"}, "volume command needs volume"),
        ({"action": CommandAction.POWER, "zone_id": "xa-1"}, "power command needs on"),
        ({"action": CommandAction.PLAY_NOW, "node_id": "loa-1"}, "play_now needs an item"),
        ({"action": CommandAction.STOP}, "exactly one of node_id or zone_id"),
        ({"action": CommandAction.VOLUME, "node_id": "loa-1", "volume": 101}, "less than"),
    ],
)
def test_an_invalid_command_is_refused_with_the_protocols_reason(
    fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(CommandRequestError, match=reason):
        build_command(FakeClock(NOW), **fields)  # type: ignore[arg-type]
