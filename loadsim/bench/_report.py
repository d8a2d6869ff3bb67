"""How every benchmark reports: its errors, and its result as JSON or as a readable table.

Underscore module: not a benchmark itself (discovery skips it).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any


class BenchError(RuntimeError):
    """A benchmark cannot run or cannot finish (the reason is the message); exit status 2."""


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the report as one JSON line (default: a table)"
    )


def emit(report: Mapping[str, Any], as_json: bool) -> None:
    """One JSON line with ``--json`` (scripts, the tests), else one ``key  value`` row each."""
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    width = max(map(len, report), default=0)
    for key, value in report.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        print(f"{key:<{width}}  {shown}")
