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
        "assert 'paho.mqtt.client' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_an_idle_agent_carries_no_http_client() -> None:
    """httpx (with its optional CLI stack) costs a Pi several MB: it is imported only by the
    rare paths that need it (a media download, an update, the first key fetch, enrolment)."""
    code = (
        "import sys, agent.runtime, agent.__main__, agent.cache, agent.updater\n"
        "print('httpx' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
