"""Commune scope rules on a real (in-memory SQLite) database: seeing vs acting, and targets
resolved by kind so a zone and a node sharing an id cannot be confused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from controller.auth.principal import Principal, Role
from controller.auth.scope import scope_for
from controller.db.models import Base, Node
from controller.services.announcements import TargetError, resolve_targets
from controller.services.seed import seed_demo

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        seed_demo(s, NOW)
        # a node of xã Vi Hương whose id is also a village (zone) of xã Đồng Tiến
        s.add(Node(id="ban-goc-bong", name="x", zone_id="vi-huong-thon-2", created_at=NOW))
        s.commit()
        yield s


def test_bare_id_naming_a_zone_and_a_node_is_refused(session: Session) -> None:
    with pytest.raises(TargetError, match=r"ambiguous.*ban-goc-bong"):
        resolve_targets(session, ["ban-goc-bong"])
    zone = resolve_targets(session, ["zone:ban-goc-bong", "dong-an-1"])
    assert (zone.zone_ids, zone.node_ids) == (["ban-goc-bong"], ["dong-an-1"])
    node = resolve_targets(session, ["node:ban-goc-bong"])
    assert (node.zone_ids, node.node_ids) == ([], ["ban-goc-bong"])
    with pytest.raises(TargetError, match="node:ban-dong-an"):
        resolve_targets(session, ["node:ban-dong-an"])  # a zone, not a node


def test_seeing_reaches_up_the_tree_acting_needs_every_target(session: Session) -> None:
    op = Principal("op", Role.OPERATOR, frozenset({"xa-dong-tien"}))
    scope = scope_for(session, op)
    assert "ban-goc-bong" not in scope.node_ids  # B's node, despite the shared id
    assert scope.sees(["tinh-bac-ninh"], [])  # a province-wide notice plays here too
    assert not scope.allows_targets(["tinh-bac-ninh"], [])  # but is not theirs to change
    assert scope.allows_targets(["ban-goc-bong", "xa-dong-tien"], ["dong-an-1"])
    assert not scope.sees(["xa-vi-huong", "tinh-thai-nguyen"], ["ban-goc-bong"])
    nobody = scope_for(session, Principal("x", Role.VIEWER, frozenset({"no-such-commune"})))
    assert not nobody.sees(["tinh-bac-ninh"], ["dong-an-1"])
    admin = scope_for(session, Principal("a", Role.ADMIN, all_communes=True))
    assert admin.sees([], []) and admin.allows_targets(["xa-vi-huong"], ["ban-goc-bong"])
