"""``loa bench NAME --json`` as a subprocess, for the benchmarks' smoke tests."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def bench(*args: str) -> dict[str, Any]:
    """The JSON report the benchmark prints last; fails the test with its stderr otherwise."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "bench", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
