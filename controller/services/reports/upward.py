"""The report a commune sends upward, per commune and summed for a province: every figure once.

The panel page, the CSV, the XLSX and the JSON endpoint all render what :func:`build` returns,
so they cannot disagree. What each figure means is in docs/reports.md; in short:

* **plan** (per node): the occurrences meant for the node in the period (``plan.plan``);
  *played* are those the node reported ``finished`` (so played ≤ planned), *failed* / *missed*
  those that only reported ``failed`` / ``missed`` or ``skipped`` (the last such event decides
  and gives the reason), *not reported* the rest; finished items the plan does not know are
  *other*, never in the rate.
* **log** (per node, commune, province; by level and by source): the playback log's
  ``finished`` events inside the period. *Plays* are distinct occurrences per node, *bulletins*
  distinct things aired (an announcement, an emergency, a play-now item, a programme entry),
  *airtime* the sum over every finished event of ``finished − started`` (the item's own
  duration when the node reported no start).
* **availability**: share of the measured window in which heartbeats were heard.
* **approval**: submitted → approved, for approvals given in the period.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from controller.db.models import (
    Announcement,
    AnnouncementTarget,
    Emergency,
    Media,
    Node,
    PlaybackEvent,
    ScheduleEntryRow,
    Zone,
)
from controller.services.reports.availability import NONE, Availability, availability
from controller.services.reports.period import Period
from controller.services.reports.plan import (
    REPORTED_PREFIXES,
    Plan,
    bulletin_key,
    item_languages,
    occurrence_key,
    plan,
)
from controller.services.zones import COMMUNE_KINDS, ZoneTree, nodes_reached

LEVELS = ("normal", "priority", "emergency")
SOURCES = ("own", "upstream", "relay", "emergency")
FAILURE_KINDS = ("failed", "missed", "skipped")
LATE_REPORT = timedelta(days=1)
"""An occurrence late in the period may finish (and be reported) after it ends."""
START_LOOKBACK = timedelta(hours=6)
"""A play finished just after the period starts may have started before it."""


@dataclass(frozen=True)
class Bulletin:
    """One thing aired, however often: its title, level, source and nominal length."""

    key: str
    title: str
    level: str
    source: str
    nominal_s: float
    author: str | None = None
    approver: str | None = None


@dataclass(frozen=True)
class Aired:
    """One bulletin aired in the section: who wrote and approved it, plays and airtime."""

    bulletin: Bulletin
    plays: int
    airtime_s: float
    languages: tuple[str, ...] = ("vi",)
    """Each language it aired in, in order (a multilingual bulletin plays them as one item)."""


@dataclass(frozen=True)
class Failure:
    """A planned occurrence that never finished on a node, with the node's last reason."""

    node_id: str
    node_name: str
    at: datetime
    occurrence: str
    title: str
    kind: str  # failed | missed (missed also stands for skipped)
    event: str  # the event kind as reported: failed | missed | skipped
    reason: str


@dataclass(frozen=True)
class NodeRow:
    node_id: str
    name: str
    planned: int
    ad_hoc: int
    played: int
    failed: int
    missed: int
    other: int
    plays: int
    airtime_s: float
    availability: Availability

    @property
    def not_reported(self) -> int:
        return self.planned - self.played - self.failed - self.missed

    @property
    def rate(self) -> float | None:
        return self.played / self.planned if self.planned else None


@dataclass(frozen=True)
class Tally:
    bulletins: int
    plays: int
    airtime_s: float


@dataclass(frozen=True)
class ApprovalTimes:
    """Submitted → approved, in seconds, for approvals given in the period."""

    count: int
    median_s: float | None
    max_s: float | None


@dataclass(frozen=True)
class Section:
    """One commune, or the sum over every commune of a province."""

    zone_id: str
    zone_name: str
    nodes: list[NodeRow]
    by_level: dict[str, Tally]
    by_source: dict[str, Tally]
    total: Tally
    failures: list[Failure]
    approvals: ApprovalTimes
    aired: list[Aired] = field(default_factory=list)

    @property
    def node_total(self) -> NodeRow:
        rows = self.nodes
        return NodeRow(
            "",
            "",
            planned=sum(r.planned for r in rows),
            ad_hoc=sum(r.ad_hoc for r in rows),
            played=sum(r.played for r in rows),
            failed=sum(r.failed for r in rows),
            missed=sum(r.missed for r in rows),
            other=sum(r.other for r in rows),
            plays=sum(r.plays for r in rows),
            airtime_s=sum(r.airtime_s for r in rows),
            availability=sum((r.availability for r in rows), NONE),
        )

    @property
    def reasons(self) -> list[tuple[str, str, int]]:
        """(kind, reason, count), most frequent first."""
        counted = Counter((f.kind, f.reason) for f in self.failures)
        return [(k, r, n) for (k, r), n in sorted(counted.items(), key=lambda i: (-i[1], i[0]))]


@dataclass(frozen=True)
class UpwardReport:
    zone_id: str
    zone_name: str
    period: Period
    generated_at: datetime
    communes: list[Section]
    total: Section
    """The communes summed (a bulletin aired in several communes counts once here)."""


@dataclass
class _NodeLog:
    """What one node's log says about the period."""

    finished: set[str] = field(default_factory=set)
    finished_in_period: set[str] = field(default_factory=set)
    last_failure: dict[str, tuple[datetime, str, str]] = field(default_factory=dict)
    aired: dict[str, list[float | None]] = field(default_factory=lambda: defaultdict(list))
    """occurrence key → seconds of each finished event in the period (None: no start seen)."""
    languages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """occurrence key → the languages its item aired in (a multilingual item names them)."""


def communes_of(session: Session, tree: ZoneTree, zone: Zone) -> list[Zone]:
    """The communes a report on ``zone`` covers: itself if it is one (or nothing below it is),
    else every commune below it."""
    if zone.kind in COMMUNE_KINDS:
        return [zone]
    below = tree.descendants_and_self(zone.id) - {zone.id}
    found = list(
        session.scalars(
            select(Zone).where(Zone.id.in_(below), Zone.kind.in_(COMMUNE_KINDS)).order_by(Zone.id)
        )
    )
    return found or [zone]


def build(
    session: Session,
    zone: Zone,
    period: Period,
    now: datetime,
    *,
    heartbeat_interval_s: float,
    heartbeat_keep: timedelta,
) -> UpwardReport:
    start, end = period.start, period.end
    tree = ZoneTree.load(session)
    communes = communes_of(session, tree, zone)
    members = {c.id: sorted(nodes_reached(session, tree, [c.id], [])) for c in communes}
    all_ids = sorted({n for ids in members.values() for n in ids})
    nodes = {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(all_ids)))}
    # Nothing is planned in the future: a report on the current period covers up to now.
    planned = plan(session, tree, list(nodes.values()), start, max(start, min(end, now)))
    logs = _read_log(session, all_ids, start, end)
    languages: dict[str, dict[str, None]] = defaultdict(dict)  # bulletin → ordered languages
    for log in logs.values():
        for key, aired_in in log.languages.items():
            languages[bulletin_key(key)].update(dict.fromkeys(aired_in))
    catalog = _catalog(session, planned, logs)
    uptime = availability(
        session,
        list(nodes.values()),
        start,
        end,
        now,
        interval_s=heartbeat_interval_s,
        keep=heartbeat_keep,
    )
    approvals = _approval_seconds(session, tree, communes, members, start, end)
    airtime = {nid: _airtime(log, catalog) for nid, log in logs.items()}

    def section(zone_id: str, zone_name: str, node_ids: Sequence[str]) -> Section:
        rows: list[NodeRow] = []
        failures: list[Failure] = []
        for nid in node_ids:
            row, fails = _node_row(
                nodes[nid], planned, logs[nid], airtime[nid], catalog, uptime[nid]
            )
            rows.append(row)
            failures.extend(fails)
        per_node = [(n, airtime[n]) for n in node_ids]
        by_level, by_source, total = _tallies(catalog, per_node)
        covered = [zone_id] if zone_id in members else list(members)
        return Section(
            zone_id,
            zone_name,
            rows,
            by_level,
            by_source,
            total,
            sorted(failures, key=lambda f: (f.at, f.node_id)),
            _approval_times(approvals, covered),
            _aired(catalog, per_node, languages),
        )

    sections = [section(c.id, c.name, members[c.id]) for c in communes]
    if len(communes) == 1 and communes[0].id == zone.id:
        total = sections[0]
    else:
        total = section(zone.id, zone.name, all_ids)
    return UpwardReport(zone.id, zone.name, period, now, sections, total)


def _airtime(log: _NodeLog, catalog: dict[str, Bulletin]) -> dict[str, float]:
    """Seconds aired per occurrence of a known bulletin (pauses and unknown programme items
    air nothing); a finished event without a start counts the item's own duration."""
    found: dict[str, float] = {}
    for key, plays in log.aired.items():
        bulletin = catalog.get(bulletin_key(key))
        if bulletin is not None:
            found[key] = sum(bulletin.nominal_s if s is None else s for s in plays)
    return found


def _tallies(
    catalog: dict[str, Bulletin], per_node: Iterable[tuple[str, dict[str, float]]]
) -> tuple[dict[str, Tally], dict[str, Tally], Tally]:
    by_level: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    by_source: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    every: list[tuple[str, str, float]] = []
    for nid, aired in per_node:
        for key, seconds in aired.items():
            bulletin = catalog[bulletin_key(key)]
            play = (f"{nid}|{key}", bulletin.key, seconds)
            by_level[bulletin.level].append(play)
            by_source[bulletin.source].append(play)
            every.append(play)
    return (
        {lvl: _tally(by_level[lvl]) for lvl in LEVELS},
        {src: _tally(by_source[src]) for src in SOURCES},
        _tally(every),
    )


def _aired(
    catalog: dict[str, Bulletin],
    per_node: list[tuple[str, dict[str, float]]],
    languages: dict[str, dict[str, None]],
) -> list[Aired]:
    plays: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for _, aired in per_node:
        for key, s in aired.items():
            plays[bulletin_key(key)] += 1
            seconds[bulletin_key(key)] += s
    found = [
        Aired(catalog[k], plays[k], round(seconds[k], 3), tuple(languages.get(k) or ("vi",)))
        for k in plays
    ]
    return sorted(found, key=lambda a: (-a.airtime_s, a.bulletin.key))


def _tally(plays: list[tuple[str, str, float]]) -> Tally:
    return Tally(
        bulletins=len({b for _, b, _ in plays}),
        plays=len({p for p, _, _ in plays}),
        airtime_s=round(sum(s for _, _, s in plays), 3),
    )


def _read_log(
    session: Session, node_ids: list[str], start: datetime, end: datetime
) -> dict[str, _NodeLog]:
    """One pass over the period's playback events, in node and time order."""
    logs = {nid: _NodeLog() for nid in node_ids}
    started: dict[tuple[str, str], datetime] = {}
    events = session.execute(
        select(
            PlaybackEvent.node_id,
            PlaybackEvent.kind,
            PlaybackEvent.item_id,
            PlaybackEvent.at,
            PlaybackEvent.detail,
        )
        .where(
            PlaybackEvent.node_id.in_(node_ids),
            PlaybackEvent.kind.in_(("started", "finished", *FAILURE_KINDS)),
            PlaybackEvent.item_id.is_not(None),
            PlaybackEvent.at >= start - START_LOOKBACK,
            PlaybackEvent.at < end + LATE_REPORT,
        )
        .order_by(PlaybackEvent.node_id, PlaybackEvent.at, PlaybackEvent.seq)
    ).all()
    for node_id, kind, item_id, at, detail in events:
        if not item_id:
            continue
        log = logs[node_id]
        key = occurrence_key(item_id)
        if kind == "started":
            started[(node_id, item_id)] = at
            continue
        if at < start:
            continue
        planned_kind = item_id.startswith(REPORTED_PREFIXES)  # not programme entries
        if kind == "finished":
            if planned_kind:
                log.finished.add(key)
            if at < end:
                if planned_kind:
                    log.finished_in_period.add(key)
                began = started.pop((node_id, item_id), None)
                log.aired[key].append((at - began).total_seconds() if began else None)
                log.languages[key] = item_languages(item_id)
        elif planned_kind:
            previous = log.last_failure.get(key)
            if previous is None or at >= previous[0]:
                log.last_failure[key] = (at, kind, detail)
    return logs


def _catalog(session: Session, planned: Plan, logs: dict[str, _NodeLog]) -> dict[str, Bulletin]:
    """Every bulletin the logs and the plan name, classified by level and source."""
    keys = {bulletin_key(k) for log in logs.values() for k in (*log.aired, *log.last_failure)}
    keys |= {bulletin_key(k) for k in planned.items}
    found: dict[str, Bulletin] = {}
    ann_ids = {int(k[4:]) for k in keys if k.startswith("ann-") and k[4:].isdigit()}
    for ann in session.scalars(select(Announcement).where(Announcement.id.in_(ann_ids))):
        found[f"ann-{ann.id}"] = Bulletin(
            f"ann-{ann.id}",
            ann.title or (ann.text or "")[:80],
            _known(ann.level, LEVELS, "normal"),
            _known(ann.origin, SOURCES, "own"),
            ann.duration_s,
            ann.created_by,
            ann.approved_by,
        )
    emg = [k for k in keys if k.startswith("emg-")]
    rows = session.execute(
        select(Emergency.item_id, Emergency.title, Media.duration_s, Emergency.created_by)
        .join(Media, Media.sha256 == Emergency.media_sha256)
        .where(Emergency.item_id.in_(emg))
    ).all()
    for item_id, title, seconds, author in rows:
        found[item_id] = Bulletin(item_id, title, "emergency", "emergency", seconds, author)
    for key, item in planned.items.items():
        if key not in found:
            level = source = "emergency" if key.startswith("emg-") else ""
            found[key] = Bulletin(
                key, item.title, level or "normal", source or "own", item.duration_s
            )
    other = [k for k in keys if not k.startswith(REPORTED_PREFIXES)]
    for entry in session.scalars(select(ScheduleEntryRow).where(ScheduleEntryRow.id.in_(other))):
        if entry.kind == "silence":
            continue  # a programme pause airs nothing
        seconds = entry.spec.get("duration_s") or (entry.spec.get("media") or {}).get(
            "duration_s", 0.0
        )
        source = "relay" if entry.kind == "stream" else "own"
        found[entry.id] = Bulletin(entry.id, entry.title, "normal", source, float(seconds))
    for key in keys - found.keys():
        if key.startswith(REPORTED_PREFIXES):  # e.g. an announcement deleted since
            found[key] = Bulletin(key, key, "normal", "own", 0.0)
    return found


def _known(value: str, allowed: tuple[str, ...], fallback: str) -> str:
    return value if value in allowed else fallback


def _node_row(
    node: Node,
    planned: Plan,
    log: _NodeLog,
    aired: dict[str, float],
    catalog: dict[str, Bulletin],
    uptime: Availability,
) -> tuple[NodeRow, list[Failure]]:
    keys = planned.keys(node.id)
    played = log.finished & keys
    failures = []
    for key in sorted((set(log.last_failure) & keys) - played):
        at, event, reason = log.last_failure[key]
        bulletin = catalog.get(bulletin_key(key))
        failures.append(
            Failure(
                node.id,
                node.name,
                at,
                key,
                bulletin.title if bulletin else key,
                "failed" if event == "failed" else "missed",
                event,
                reason,
            )
        )
    row = NodeRow(
        node.id,
        node.name,
        planned=len(keys),
        ad_hoc=len(planned.ad_hoc.get(node.id, set())),
        played=len(played),
        failed=sum(1 for f in failures if f.kind == "failed"),
        missed=sum(1 for f in failures if f.kind == "missed"),
        other=len(log.finished_in_period - keys),
        plays=len(aired),
        airtime_s=round(sum(aired.values()), 3),
        availability=uptime,
    )
    return row, failures


def _approval_seconds(
    session: Session,
    tree: ZoneTree,
    communes: list[Zone],
    members: dict[str, list[str]],
    start: datetime,
    end: datetime,
) -> dict[str, dict[int, float]]:
    """Per commune: announcement id → seconds from submission to approval, for announcements
    approved in the period that target the commune (a zone in it, or one of its nodes)."""
    found: dict[str, dict[int, float]] = defaultdict(dict)
    subtree = {c.id: tree.descendants_and_self(c.id) for c in communes}
    rows = session.scalars(
        select(Announcement).where(
            Announcement.approval == "approved",
            Announcement.approved_at >= start,
            Announcement.approved_at < end,
            Announcement.submitted_at.is_not(None),
        )
    )
    for ann in rows:
        assert ann.approved_at is not None and ann.submitted_at is not None
        seconds = (ann.approved_at - ann.submitted_at).total_seconds()
        for commune, zones in subtree.items():
            if _targets_commune(ann.targets, zones, set(members[commune])):
                found[commune][ann.id] = seconds
    return found


def _targets_commune(
    targets: list[AnnouncementTarget], zones: set[str], node_ids: set[str]
) -> bool:
    return any(t.zone_id in zones or t.node_id in node_ids for t in targets)


def _approval_times(per_commune: dict[str, dict[int, float]], communes: list[str]) -> ApprovalTimes:
    """Each announcement once, also when it went to several of the communes."""
    distinct = {i: s for c in communes for i, s in per_commune.get(c, {}).items()}
    seconds = sorted(distinct.values())
    if not seconds:
        return ApprovalTimes(0, None, None)
    return ApprovalTimes(len(seconds), statistics.median(seconds), max(seconds))
