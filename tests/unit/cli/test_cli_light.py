"""``loa`` must stay installable on a Raspberry Pi with only the agent extra."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "pydub", "gtts", "alembic", "controller", "audio", "uvicorn")


def test_building_the_cli_parser_imports_nothing_of_the_controller_stack() -> None:
    code = (
        "import sys, cli.main; cli.main.build_parser(); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_version_and_unknown_command() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "cli.main", "--version"], capture_output=True, text=True
    )
    assert ok.returncode == 0 and ok.stdout.startswith("loa ")
    bad = subprocess.run(
        [sys.executable, "-m", "cli.main", "nosuch"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
