"""No import cycles between the modules of our packages (``tests/support/imports.py``
walks the ``ast`` imports: module level, in functions and under ``TYPE_CHECKING``)."""

from __future__ import annotations

from pathlib import Path

from tests.support.imports import cycles, import_graph, our_modules


def test_the_detector_finds_a_cycle(tmp_path: Path) -> None:
    """The check itself can fail: a two-module cycle through a relative, function-level import."""
    pkg = tmp_path / "agent"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from agent.b import thing\n")
    (pkg / "b.py").write_text("def thing():\n    from . import a\n")
    (pkg / "c.py").write_text("import agent.a\n")
    assert cycles(import_graph(our_modules(tmp_path, ["agent"]))) == [["agent.a", "agent.b"]]


def test_no_import_cycles_between_our_modules() -> None:
    found = cycles(import_graph(our_modules()))
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
