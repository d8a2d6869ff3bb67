"""Every fault scenario of ``loa bench faults`` with real processes: nothing lost, nothing
duplicated, every scheduled item played or reported (finished/failed/skipped/missed).

The agent SIGKILLed mid-playback with the broker also down is covered in more detail
(start times on the wall clock) by tests/integration/agent/test_faults.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadsim.bench.faults import SCENARIOS, run_scenario

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_loses_and_duplicates_nothing(tmp_path: Path, name: str) -> None:
    report = run_scenario(name, tmp_path / name, agents=2)
    assert report["sent"] > 0, report
    assert (report["lost"], report["duplicated"], report["unaccounted_items"]) == (0, 0, 0), report
    assert report["stored"] == report["sent"]
