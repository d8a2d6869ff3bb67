"""Shared fixtures: real servers on free loopback ports, always stopped afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.broker.process import MosquittoProcess

# In-process controllers built by tests read LOA_* from the environment: let tests call the
# JSON API without a token. The default is closed (see test_api_requires_auth_by_default).
os.environ["LOA_API_ANONYMOUS_ADMIN"] = "true"


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoProcess]:
    """A private Mosquitto (anonymous, persistence on) on 127.0.0.1:<free port>."""
    broker = MosquittoProcess(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
