"""``loa bench compile``: a province-sized fleet's 48 h playlists, fast path vs naive path.

The fleet is synthetic but shaped like a real one: communes of villages, nodes in villages,
relays and emergencies for whole communes, bulletins packed into morning/evening slots,
rules that started months ago. The baseline compiles node by node (every rule expanded for
every node) in the same run, so the ratio is measured, not remembered.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loadsim.bench._report import add_json_flag, emit
from protocol.models import ItemKind, MediaRef, Priority
from schedules import (
    CompileResult,
    ProgrammeSlot,
    RepublishGate,
    ScheduleEntry,
    compile_fleet,
    compile_node_playlist,
)
from schedules.rules import DailyRule, MonthlyRule, OnceRule, RRuleRule, Weekday, WeeklyRule

WINDOW_START = datetime(2025, 5, 4, 17, 0, tzinfo=UTC)  # 00:00 on 5/5 in Vietnam
PROVINCE = "tinh-bench"


@dataclass(frozen=True)
class Fleet:
    nodes: dict[str, frozenset[str]]
    slots: list[ProgrammeSlot]
    entries: list[ScheduleEntry]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("compile", help="compile 48 h playlists for a fleet")
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--items", type=int, default=200, help="active schedule entries")
    parser.add_argument("--communes", type=int, default=20)
    parser.add_argument("--villages", type=int, default=10, help="villages per commune")
    parser.add_argument("--hours", type=float, default=48.0)
    parser.add_argument(
        "--baseline-nodes", type=int, default=0, help="nodes for the naive baseline (0 = all)"
    )
    parser.add_argument("--seed", type=int, default=7)
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    fleet = build_fleet(args.nodes, args.items, args.communes, args.villages, args.seed)
    end = WINDOW_START + timedelta(hours=args.hours)
    report = measure(fleet, WINDOW_START, end, args.baseline_nodes or args.nodes)
    emit(report, args.json)
    return 0


def measure(fleet: Fleet, start: datetime, end: datetime, baseline_nodes: int) -> dict[str, Any]:
    began = time.perf_counter()
    results = compile_fleet(fleet.nodes, fleet.entries, start, end, slots=fleet.slots)
    compile_seconds = time.perf_counter() - began

    sample = sorted(fleet.nodes)[:baseline_nodes]
    began = time.perf_counter()
    naive = {
        node: compile_node_playlist(
            node, fleet.nodes[node], fleet.entries, start, end, slots=fleet.slots
        )
        for node in sample
    }
    baseline_measured = time.perf_counter() - began
    baseline_seconds = baseline_measured * len(fleet.nodes) / max(1, len(sample))

    gate = RepublishGate()
    first = _publish(gate, results)
    again = compile_fleet(fleet.nodes, fleet.entries, start, end, slots=fleet.slots)
    unchanged = _publish(gate, again)
    edited = _edit_one_village_entry(fleet)
    after_edit = _publish(gate, compile_fleet(fleet.nodes, edited, start, end, slots=fleet.slots))
    return {
        "nodes": len(fleet.nodes),
        "items": len(fleet.entries),
        "slots": len(fleet.slots),
        "window_hours": (end - start).total_seconds() / 3600,
        "distinct_playlists": len({r.content_hash for r in results.values()}),
        "playlist_items_total": sum(len(r.items) for r in results.values()),
        "bumped_total": sum(len(r.bumped) for r in results.values()),
        "compile_seconds": round(compile_seconds, 3),
        "baseline": "naive per-node compile_node_playlist (every rule expanded per node)",
        "baseline_nodes_measured": len(sample),
        "baseline_seconds_measured": round(baseline_measured, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "ratio": round(baseline_seconds / compile_seconds, 1) if compile_seconds else None,
        "results_match_baseline": all(
            naive[n].content_hash == results[n].content_hash for n in sample
        ),
        "first_publishes": first,
        "unchanged_publishes": unchanged,
        "publishes_after_one_edit": after_edit,
    }


def _publish(gate: RepublishGate, results: Mapping[str, CompileResult]) -> int:
    published = 0
    for node_id, result in sorted(results.items()):
        if gate.needs_publish(node_id, result.content_hash):
            gate.mark_published(node_id, result.content_hash)
            published += 1
    return published


def _edit_one_village_entry(fleet: Fleet) -> list[ScheduleEntry]:
    """The same calendar with one village-wide announcement re-timed by five minutes."""
    edited = list(fleet.entries)
    for index, entry in enumerate(edited):
        rule = entry.rule
        village_wide = any("-thon-" in z for z in entry.targets.zones) and not entry.targets.nodes
        if entry.slot is None and rule is not None and rule.time is not None and village_wide:
            moved = (datetime.combine(date(2000, 1, 1), rule.time) + timedelta(minutes=5)).time()
            edited[index] = entry.model_copy(
                update={"rule": rule.model_copy(update={"time": moved})}
            )
            break
    return edited


def build_fleet(nodes: int, items: int, communes: int, villages: int, seed: int) -> Fleet:
    """A deterministic synthetic province: ``communes`` x ``villages``, nodes spread evenly."""
    rng = random.Random(seed)
    village_ids = [
        (f"xa-{c:02d}", f"xa-{c:02d}-thon-{v:02d}")
        for c in range(communes)
        for v in range(villages)
    ]
    fleet_nodes = {}
    for n in range(nodes):
        commune, village = village_ids[n % len(village_ids)]
        fleet_nodes[f"loa-{n:05d}"] = frozenset({PROVINCE, commune, village})
    slots = [
        ProgrammeSlot(
            id="ban-tin-sang",
            title="Bản tin sáng",
            rule=DailyRule(freq="daily", start_date=date(2023, 1, 1), time=_t(5, 30)),
            duration_s=1800,
            gap_s=2,
        ),
        ProgrammeSlot(
            id="ban-tin-chieu",
            title="Bản tin chiều",
            rule=DailyRule(freq="daily", start_date=date(2023, 1, 1), time=_t(17, 0)),
            duration_s=1800,
            gap_s=2,
        ),
    ]
    entries = [_entry(i, rng, communes, villages, list(fleet_nodes)) for i in range(items)]
    return Fleet(fleet_nodes, slots, entries)


def _t(hour: int, minute: int) -> Any:
    return datetime(2000, 1, 1, hour, minute).time()


def _media(rng: random.Random, seconds: float) -> MediaRef:
    return MediaRef(
        sha256=f"{rng.getrandbits(256):064x}", size=int(seconds * 4000), duration_s=seconds
    )


def _entry(
    index: int, rng: random.Random, communes: int, villages: int, node_ids: list[str]
) -> ScheduleEntry:
    commune = f"xa-{rng.randrange(communes):02d}"
    village = f"{commune}-thon-{rng.randrange(villages):02d}"
    started = date(2025, 5, 5) - timedelta(days=rng.randrange(1, 700))
    kind_roll = rng.random()
    common: dict[str, Any] = {"id": f"muc-{index:04d}", "created_seq": index}
    if kind_roll < 0.1:  # relays: national radio for the province, local radio per commune
        province_wide = index % 3 == 0
        hour = (6, 11, 18)[index // 3 % 3] if province_wide else rng.randrange(6, 21)
        return ScheduleEntry(
            **common,
            kind=ItemKind.STREAM,
            title="Tiếp sóng VOV1",
            stream_url="https://relay.example.vn/vov1.m3u8",
            duration_s=1800,
            priority=Priority.RELAY,
            targets={"zones": [PROVINCE if province_wide else commune]},
            rule=DailyRule(freq="daily", start_date=started, time=_t(hour, 0)),
        )
    if kind_roll < 0.6:  # bulletin items packed into slots
        return ScheduleEntry(
            **common,
            kind=ItemKind.TTS,
            title=f"Thông báo số {index}",
            media=_media(rng, rng.uniform(30, 150)),
            repeat=rng.choice([1, 1, 2, 3]),
            targets={"zones": [rng.choice([commune, village, village])]},
            slot=rng.choice(["ban-tin-sang", "ban-tin-chieu"]),
            rule=rng.choice(
                [
                    None,
                    WeeklyRule(
                        freq="weekly", start_date=started, weekdays=(Weekday.MO, Weekday.TU)
                    ),
                ]
            ),
        )
    if kind_roll < 0.95:  # fixed-time notices with every kind of rule
        at = _t(rng.randrange(6, 21), rng.randrange(0, 60, 5))
        rule = rng.choice(
            [
                DailyRule(freq="daily", start_date=started, time=at, interval=rng.choice([1, 2])),
                WeeklyRule(
                    freq="weekly", start_date=started, weekdays=(Weekday.MO, Weekday.WE), time=at
                ),
                MonthlyRule(freq="monthly", start_date=started, monthdays=(5, -1), time=at),
                RRuleRule(
                    freq="rrule", start_date=started, rrule="FREQ=WEEKLY;BYDAY=MO,TU", time=at
                ),
                OnceRule(freq="once", start_date=date(2025, 5, 5), time=at),
            ]
        )
        targets: dict[str, list[str]] = {"zones": [rng.choice([commune, village])]}
        if rng.random() < 0.1:
            targets = {"nodes": rng.sample(node_ids, 3)}
        return ScheduleEntry(
            **common,
            kind=ItemKind.AUDIO,
            title=f"Thông báo giờ cố định {index}",
            media=_media(rng, rng.uniform(30, 180)),
            repeat=rng.choice([1, 2]),
            targets=targets,
            rule=rule,
        )
    return ScheduleEntry(  # urgent warnings for a commune
        **common,
        kind=ItemKind.TTS,
        title="Cảnh báo mưa lũ khẩn cấp",
        media=_media(rng, 90),
        repeat=3,
        priority=Priority.EMERGENCY,
        targets={"zones": [commune]},
        rule=OnceRule(freq="once", start_date=date(2025, 5, 5), time=_t(rng.randrange(5, 20), 10)),
    )
