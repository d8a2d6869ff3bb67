"""Hole 1: an empty, short or repetitive shared secret stops the controller at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.config import ControllerSettings
from protocol.settings_source import describe_settings_error

GOOD = "kR4v-9QzL2mX7pW1sT8yB3nF6hJ0dC5e"  # 32 varied characters (a test value, not a secret)


def _refusal(**settings: object) -> str:
    with pytest.raises(ValidationError) as caught:
        ControllerSettings(**settings)  # type: ignore[arg-type]
    return describe_settings_error(caught.value)


@pytest.mark.parametrize("field", ["api_token", "upstream_alert_token", "broker_hook_token"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is set but empty"),
        ("   ", "is set but empty"),
        ("s3cret", "shorter than 32"),
        ("a" * 40, "fewer than 10 different"),
    ],
)
def test_weak_tokens_are_refused_with_the_variable_name(
    field: str, value: str, reason: str
) -> None:
    message = _refusal(**{field: value})
    assert f"LOA_{field.upper()}: " in message and reason in message
    assert "secrets.token_urlsafe" in message  # says how to make a good one
    if value.strip():
        assert value not in message  # the refused secret is never echoed


def test_an_empty_broker_password_is_refused() -> None:
    assert "LOA_MQTT_PASSWORD: is set but empty" in _refusal(mqtt_password="")


def test_the_shared_tokens_must_all_differ() -> None:
    assert "must all differ" in _refusal(api_token=GOOD, upstream_alert_token=GOOD)
    assert "must all differ" in _refusal(upstream_alert_token=GOOD, broker_hook_token=GOOD)


def test_strong_tokens_and_unset_ones_are_accepted() -> None:
    settings = ControllerSettings(api_token=GOOD, upstream_alert_token=GOOD[::-1])  # type: ignore[arg-type]
    assert settings.api_token is not None and settings.api_token.get_secret_value() == GOOD
    assert ControllerSettings().api_token is None


def test_loa_controller_refuses_to_start_with_an_empty_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOA_")}
    env |= {"LOA_API_TOKEN": "", "LOA_DATA_DIR": str(tmp_path), "LOA_HTTP_PORT": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "controller"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "LOA_API_TOKEN: is set but empty" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "loa.sqlite3").exists()  # stopped before touching anything
