"""Demo seed data from real pilot communes (shared/data/communes.md).

Provinces are named as after the 2025 reform (Bắc Kạn merged into Thái Nguyên, Bắc Giang
into Bắc Ninh); the old district level is gone, so communes hang directly under provinces.
Seeding is idempotent: existing ids are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from controller.db.models import Node, Zone


@dataclass(frozen=True)
class SeedZone:
    id: str
    name: str
    kind: str
    parent_id: str | None = None


@dataclass(frozen=True)
class SeedNode:
    id: str
    name: str
    zone_id: str
    lat: float
    lon: float


DONG_TIEN_BAN = ["Đồng An", "Cây Thị", "Khe Ngọ", "Gốc Bòng", "Cây Vối", "Trại Mới"]

ZONES: list[SeedZone] = [
    SeedZone("tinh-bac-ninh", "Tỉnh Bắc Ninh", "tỉnh"),
    SeedZone("xa-dong-tien", "Xã Đồng Tiến", "xã", "tinh-bac-ninh"),
    *(
        SeedZone(f"ban-{slug}", f"Bản {name}", "bản", "xa-dong-tien")
        for slug, name in zip(
            ["dong-an", "cay-thi", "khe-ngo", "goc-bong", "cay-voi", "trai-moi"],
            DONG_TIEN_BAN,
            strict=True,
        )
    ),
    SeedZone("tinh-thai-nguyen", "Tỉnh Thái Nguyên", "tỉnh"),
    SeedZone("xa-vi-huong", "Xã Vi Hương", "xã", "tinh-thai-nguyen"),
    *(SeedZone(f"vi-huong-thon-{i}", f"Thôn {i}", "thôn", "xa-vi-huong") for i in range(1, 10)),
]

DEMO_NODES: list[SeedNode] = [
    SeedNode("dong-an-1", "Loa nhà văn hóa Đồng An", "ban-dong-an", 21.5190, 106.1460),
    SeedNode("cay-thi-1", "Loa nhà văn hóa Cây Thị", "ban-cay-thi", 21.5262, 106.1391),
    SeedNode("khe-ngo-1", "Loa nhà văn hóa Khe Ngọ", "ban-khe-ngo", 21.5128, 106.1533),
]


def seed_demo(session: Session, now: datetime) -> None:
    for z in ZONES:
        if session.get(Zone, z.id) is None:
            session.add(
                Zone(id=z.id, name=z.name, kind=z.kind, parent_id=z.parent_id, created_at=now)
            )
            session.flush()
    for n in DEMO_NODES:
        if session.get(Node, n.id) is None:
            session.add(
                Node(id=n.id, name=n.name, zone_id=n.zone_id, lat=n.lat, lon=n.lon, created_at=now)
            )
    session.flush()
