"""The agent installs without the controller's heavy dependencies; importing must not pull them."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = [
    "fastapi",
    "sqlalchemy",
    "pydub",
    "gtts",
    "controller",
    "audio",
    "apscheduler",
    "loadsim",  # the load-test harness is never part of a running agent
]


def test_agent_runtime_imports_only_the_agent_stack() -> None:
    code = (
        "import sys, agent.runtime, agent.__main__\n"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
        "assert 'paho.mqtt.client' in sys.modules and 'httpx' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
