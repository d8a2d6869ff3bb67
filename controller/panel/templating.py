"""The Jinja2 environment: autoescaped templates shipped in the package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from controller.panel import timefmt, vn_dates

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dt"] = timefmt.fmt_datetime
    env.filters["tm"] = timefmt.fmt_time
    env.filters["iso_local"] = timefmt.fmt_iso_local
    env.filters["vn_date"] = vn_dates.fmt_date
    env.filters["vn_datetime"] = vn_dates.fmt_local_datetime
    env.globals["vn"] = vn_dates
    return env
