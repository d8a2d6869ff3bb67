"""Simulated node ids are valid slugs, in order, zero-padded."""

from __future__ import annotations

from loadsim.fleet import fleet_node_ids


def test_fleet_node_ids_are_slugs_in_order() -> None:
    assert fleet_node_ids(3) == ["sim-001", "sim-002", "sim-003"]
    assert fleet_node_ids(1000, "xa")[-1] == "xa-1000"
