"""What each package may import (the table in docs/architecture.md), checked on the ``ast``
import graph: every import counts, including those inside functions."""

from __future__ import annotations

from tests.support.imports import import_graph, our_modules

# importer prefix -> prefixes of ours it must never import
FORBIDDEN = {
    "protocol": ("schedules", "audio", "controller", "agent", "cli", "loadsim"),
    "schedules": ("audio", "controller", "agent", "cli", "loadsim"),
    "audio": ("protocol", "schedules", "controller", "agent", "cli", "loadsim"),
    "agent": ("schedules", "audio", "controller", "cli", "loadsim"),
    "controller": ("agent", "cli", "loadsim"),
    "controller.auth": ("controller.api", "controller.panel"),
    "controller.services": ("controller.api", "controller.panel", "controller.jobs"),
    "controller.jobs": ("controller.services.container", "controller.api", "controller.panel"),
    "cli": ("loadsim.fleet", "loadsim.netloop", "loadsim.stepping"),
}
# the only way into the harness from the product: `loa bench` forwards to it when run
LOADSIM_GATES = {"cli.commands.bench"}


def violations() -> list[str]:
    graph = import_graph(our_modules())
    found = []
    for module, targets in sorted(graph.items()):
        for importer, banned in FORBIDDEN.items():
            if module == importer or module.startswith(importer + "."):
                found += [
                    f"{module} -> {t}"
                    for t in sorted(targets)
                    if any(t == b or t.startswith(b + ".") for b in banned)
                ]
        if not module.startswith("loadsim") and module not in LOADSIM_GATES:
            found += [f"{module} -> {t}" for t in sorted(targets) if t.startswith("loadsim")]
    return found


def test_every_package_imports_only_what_it_may() -> None:
    assert violations() == []
