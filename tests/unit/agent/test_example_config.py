"""The shipped example configuration loads (unknown keys would fail an agent at start-up)."""

from __future__ import annotations

from pathlib import Path

from agent.config import AgentSettings

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "agent" / "agent.example.toml"


def test_the_example_agent_config_is_valid() -> None:
    settings = AgentSettings.load(EXAMPLE)
    assert settings.report_linger_s == 0.25
    assert settings.outbox_resend_s == 10
    # the keep-alive follows the heartbeat gap (a fixed 60 s would ping between heartbeats)
    assert settings.keepalive_s > settings.heartbeat_max_interval_s
