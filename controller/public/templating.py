"""The Jinja2 environment of the public pages (autoescaped, shipped in the package)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from controller.panel import timefmt


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = timefmt.fmt_datetime
    env.filters["iso"] = timefmt.fmt_iso_local
    return env
