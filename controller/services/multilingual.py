"""Bulletins in several languages: which languages a node airs, and one item per bulletin.

A zone may set ``languages`` (e.g. xã Vi Hương: ``["vi", "tay"]``); a node airs what its home
zone or the nearest zone above it says, Vietnamese only when none says anything. An
announcement's Vietnamese media is its own; other languages are ``AnnouncementVariant`` rows.
For each language order in use the variants are joined into one file (``AnnouncementMix``,
by :mod:`audio.concat`), so the agent plays one item as always.

When the calendar is compiled, a multilingual announcement becomes one entry per language
order among the nodes it reaches (id ``ann-7-vi-tay``), each targeting exactly those nodes,
with the joined media and the ``languages`` parts that travel on the wire.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.concat import join
from audio.ffmpeg import probe_duration
from audio.pipeline import SpeechRenderer
from controller.db.models import (
    Announcement,
    AnnouncementMix,
    AnnouncementVariant,
    Media,
    Node,
    Zone,
)
from controller.services.announcements import ensure_media
from controller.services.schedule_store import ANNOUNCEMENT_PREFIX, Calendar, media_ref_of
from controller.services.zones import ZoneTree, nodes_reached
from protocol.models import LanguagePart
from schedules import ScheduleEntry

VIETNAMESE = "vi"
LANGUAGES = ("vi", "tay", "nung", "hmn", "dao", "tha", "mtq", "khm")
"""Codes an operator may use (names in the panel's i18n catalogue as ``lang.<code>``):
Vietnamese, Tày, Nùng, H'Mông, Dao, Thái, Mường, Khmer."""
DEFAULT_ORDER = (VIETNAMESE,)
_ENTRY = re.compile(rf"^{ANNOUNCEMENT_PREFIX}(\d+)((?:-[a-z]+)*)$")


class LanguageError(ValueError):
    """An unknown language code, a duplicate, or an empty list."""


def checked_languages(codes: Iterable[str]) -> list[str]:
    found = list(codes)
    unknown = [c for c in found if c not in LANGUAGES]
    if unknown:
        raise LanguageError(f"unknown language: {', '.join(unknown)} (use {', '.join(LANGUAGES)})")
    if len(set(found)) != len(found):
        raise LanguageError("a language is listed twice")
    if not found:
        raise LanguageError("list at least one language")
    return found


def entry_languages(entry_id: str) -> tuple[int, tuple[str, ...]] | None:
    """``ann-7-vi-tay`` → (7, ("vi", "tay")); ``ann-7`` → (7, ()); anything else None."""
    match = _ENTRY.match(entry_id)
    if match is None:
        return None
    suffix = match.group(2)
    return int(match.group(1)), tuple(suffix.split("-")[1:]) if suffix else ()


def zone_orders(session: Session, tree: ZoneTree) -> dict[str, tuple[str, ...]]:
    """Every zone's effective language order (its own, else its nearest ancestor's)."""
    own = {z: tuple(langs or ()) for z, langs in session.execute(select(Zone.id, Zone.languages))}
    out: dict[str, tuple[str, ...]] = {}
    for zone_id in tree.parents:
        chain = tree.ancestors_and_self(zone_id)
        out[zone_id] = next((own[z] for z in chain if own.get(z)), DEFAULT_ORDER)
    return out


def node_orders(session: Session, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``node -> language order`` from each node's home zone."""
    wanted = list(node_ids)
    if not wanted:
        return {}
    orders = zone_orders(session, ZoneTree.load(session))
    rows = session.execute(select(Node.id, Node.zone_id).where(Node.id.in_(wanted)))
    return {node: orders.get(zone, DEFAULT_ORDER) for node, zone in rows}


def available(ann: Announcement, order: Iterable[str]) -> tuple[str, ...]:
    """The languages of ``order`` this announcement has a recording for, in that order."""
    have = {v.language for v in ann.variants}
    if ann.media is not None:
        have.add(VIETNAMESE)
    return tuple(lang for lang in order if lang in have)


def ensure_mixes(
    session: Session,
    renderer: SpeechRenderer,
    ann: Announcement,
    orders: Iterable[tuple[str, ...]],
    now: datetime,
) -> list[AnnouncementMix]:
    """Join the recordings for every order that needs two or more of them (caller commits).

    Raises ``AudioToolError`` if ffmpeg fails; nothing is added then for that order.
    """
    made: list[AnnouncementMix] = []
    existing = {m.languages for m in ann.mixes}
    recordings = {v.language: v.media for v in ann.variants}
    if ann.media is not None:
        recordings[VIETNAMESE] = ann.media
    for order in dict.fromkeys(available(ann, o) for o in orders):
        key = ",".join(order)
        if len(order) < 2 or key in existing:
            continue
        parts = [
            (lang, renderer.store.path_for(recordings[lang].sha256, recordings[lang].ext))
            for lang in order
        ]
        rendered, segments = join(renderer.store, parts, renderer.format, renderer.bitrate_kbps)
        media = ensure_media(session, rendered, "join", now)
        mix = AnnouncementMix(
            languages=key,
            media=media,
            media_sha256=media.sha256,
            parts=[
                {"language": s.label, "offset_s": s.offset_s, "duration_s": s.duration_s}
                for s in segments
            ],
        )
        ann.mixes.append(mix)
        existing.add(key)
        made.append(mix)
    return made


class VariantError(ValueError):
    """A variant names an unknown recording or language, or repeats one."""


def _recording(session: Session, renderer: SpeechRenderer, sha256: str, now: datetime) -> Media:
    """The Media row of an uploaded recording (``POST /uploads/audio`` stores only the file)."""
    media = session.get(Media, sha256)
    if media is not None:
        return media
    ext = renderer.format.ext
    path = renderer.store.resolve(f"{sha256}.{ext}")
    if path is None:
        raise VariantError(f"no uploaded recording {sha256}")
    media = Media(
        sha256=sha256,
        ext=ext,
        size=path.stat().st_size,
        duration_s=round(probe_duration(path), 3),
        source="upload",
        created_at=now,
    )
    session.add(media)
    return media


def add_variants(
    session: Session,
    renderer: SpeechRenderer,
    ann: Announcement,
    variants: Iterable[tuple[str, str, str | None]],
    now: datetime,
) -> None:
    """Attach ``(language, media sha256, text)`` recordings (not Vietnamese: that is the
    announcement's own media). Raises ``VariantError``; the caller rolls back."""
    have = {v.language for v in ann.variants}
    for language, sha256, text in variants:
        try:
            checked_languages([language])
        except LanguageError as exc:
            raise VariantError(str(exc)) from None
        if language == VIETNAMESE or language in have:
            raise VariantError(f"language {language!r} already has a recording")
        media = _recording(session, renderer, sha256, now)
        ann.variants.append(
            AnnouncementVariant(language=language, media=media, media_sha256=sha256, text=text)
        )
        have.add(language)


def attach_variants(
    session: Session,
    renderer: SpeechRenderer,
    ann: Announcement,
    variants: Iterable[tuple[str, str, str | None]],
    node_ids: Iterable[str],
    now: datetime,
) -> None:
    """Attach other languages' recordings and join them in every order the reached nodes
    air (caller commits). Raises ``VariantError`` or ``AudioToolError``."""
    triples = list(variants)
    if not triples:
        return
    add_variants(session, renderer, ann, triples, now)
    orders = node_orders(session, node_ids).values()
    ensure_mixes(session, renderer, ann, orders, now)
    # the first play's length is the longest language order (the slot it needs)
    ann.duration_s = max([ann.duration_s, *(m.media.duration_s for m in ann.mixes)])


def replace_variant(
    session: Session,
    renderer: SpeechRenderer,
    ann: Announcement,
    variant: tuple[str, str, str | None],
    node_ids: Iterable[str],
    now: datetime,
) -> None:
    """Set one language's recording of an existing announcement (a new one, or instead of
    the old one: the joined files that contained it are made again). Caller commits."""
    language = variant[0]
    ann.variants[:] = [v for v in ann.variants if v.language != language]
    ann.mixes[:] = [m for m in ann.mixes if language not in m.languages.split(",")]
    session.flush()  # the old row goes before the new one takes its (announcement, language)
    attach_variants(session, renderer, ann, [variant], node_ids, now)


def set_zone_languages(
    session: Session, renderer: SpeechRenderer, zone: Zone, codes: list[str] | None, now: datetime
) -> None:
    """Set which languages ``zone`` airs (None: inherit) and join the recordings live
    announcements now need (caller commits). Raises ``LanguageError``/``AudioToolError``."""
    zone.languages = None if codes is None else checked_languages(codes)
    refresh_mixes(session, renderer, now)


def refresh_mixes(session: Session, renderer: SpeechRenderer, now: datetime) -> int:
    """After a zone's languages changed: join what every live multilingual announcement now
    needs (caller commits). Returns how many files were made."""
    candidates = session.scalars(
        select(Announcement).where(Announcement.cancelled_at.is_(None), Announcement.variants.any())
    )
    live = [a for a in candidates if a.rule is not None or a.start >= now - timedelta(hours=2)]
    tree = ZoneTree.load(session)
    made = 0
    for ann in live:
        zone_ids = [t.zone_id for t in ann.targets if t.zone_id]
        node_ids = [t.node_id for t in ann.targets if t.node_id]
        orders = node_orders(session, nodes_reached(session, tree, zone_ids, node_ids))
        made += len(ensure_mixes(session, renderer, ann, orders.values(), now))
    return made


def _reached(entry: ScheduleEntry, nodes: Mapping[str, frozenset[str]]) -> list[str]:
    zones = set(entry.targets.zones)
    listed = set(entry.targets.nodes)
    return sorted(n for n, z in nodes.items() if n in listed or not zones.isdisjoint(z))


def expand(session: Session, calendar: Calendar, nodes: Mapping[str, frozenset[str]]) -> Calendar:
    """Replace each multilingual announcement's entry by one entry per language order.

    Nodes whose order needs only one recording (or whose mix is not made yet) keep the
    plain Vietnamese entry.
    """
    by_ann = {
        parsed[0]: entry
        for entry in calendar.entries
        if (parsed := entry_languages(entry.id)) is not None and not parsed[1]
    }
    if not by_ann:
        return calendar
    mixes: dict[int, dict[str, AnnouncementMix]] = defaultdict(dict)
    for mix in session.scalars(
        select(AnnouncementMix).where(AnnouncementMix.announcement_id.in_(list(by_ann)))
    ):
        mixes[mix.announcement_id][mix.languages] = mix
    if not mixes:
        return calendar
    anns = {
        a.id: a for a in session.scalars(select(Announcement).where(Announcement.id.in_(mixes)))
    }
    reached = {ann_id: _reached(by_ann[ann_id], nodes) for ann_id in mixes}
    orders = node_orders(session, {n for ns in reached.values() for n in ns})
    replaced: dict[str, list[ScheduleEntry]] = {}
    for ann_id, ann_mixes in mixes.items():
        entry = by_ann[ann_id]
        groups: dict[str, list[str]] = defaultdict(list)
        for node in reached[ann_id]:
            key = ",".join(available(anns[ann_id], orders.get(node, DEFAULT_ORDER)))
            groups[key if key in ann_mixes else ""].append(node)
        replaced[entry.id] = [
            _variant_entry(entry, ann_mixes.get(key), members) for key, members in groups.items()
        ]
    entries: list[ScheduleEntry] = []
    for entry in calendar.entries:
        entries.extend(replaced.get(entry.id, [entry]))
    return Calendar(entries, calendar.slots)


def _variant_entry(
    entry: ScheduleEntry, mix: AnnouncementMix | None, node_ids: list[str]
) -> ScheduleEntry:
    data = entry.model_dump(mode="json", exclude_none=True)
    data["targets"] = {"zones": [], "nodes": node_ids}
    if mix is not None:
        data |= {
            "id": "-".join([entry.id, *mix.languages.split(",")]),
            "media": media_ref_of(mix.media),
            "languages": [
                LanguagePart.model_validate(p).model_dump(mode="json") for p in mix.parts
            ],
        }
        data.pop("text", None)
    return ScheduleEntry.model_validate(data)
