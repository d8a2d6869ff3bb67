"""Fixtures for the emergency tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from integration.emergency.zone_listener import ZoneCommandListener

from controller.broker.process import MosquittoProcess


@pytest.fixture
def listener(mosquitto: MosquittoProcess) -> Iterator[ZoneCommandListener]:
    lis = ZoneCommandListener(mosquitto)
    try:
        yield lis
    finally:
        lis.stop()
