"""An ``Announcement`` row is built in one place, so the API, the panel and upstream warnings
cannot drift apart (title, approval, queueing, audit): a second constructor call fails here.

Bulletins make their own row on purpose: it is already rendered, packed into a programme
slot and comes from above (``origin`` upstream, its level, never held for approval).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ALLOWED = {"controller/services/announcements.py", "controller/services/bulletins.py"}


def constructors() -> set[str]:
    """Files of the product that call ``Announcement(...)``."""
    found = set()
    for path in sorted((ROOT / "controller").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "Announcement")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "Announcement")
            ):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_announcement_rows_are_built_only_by_the_announcement_service() -> None:
    assert constructors() - ALLOWED == set()


def test_the_check_sees_a_constructor() -> None:
    """The walk finds the service's own call (a check that cannot see is no check)."""
    assert "controller/services/announcements.py" in constructors()
