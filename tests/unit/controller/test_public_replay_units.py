"""Pure parts of the citizens' replay: visibility predicate, feed builder, rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree as ET

import feedparser

from controller.db.models import Announcement
from controller.public.feed import build_feed
from controller.public.poster import qr_svg
from controller.public.ratelimit import PublicRateLimiter
from controller.services.public_replay import PublicAudio, PublicItem, is_publicly_visible
from protocol.clock import FakeClock

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _ann(**fields: object) -> Announcement:
    base: dict[str, object] = {
        "start": NOW - timedelta(minutes=5),
        "internal": False,
        "approval": "not_required",
    }
    return Announcement(**(base | fields))


def test_visibility_needs_public_aired_and_not_cancelled() -> None:
    assert is_publicly_visible(_ann(), NOW)
    assert is_publicly_visible(_ann(start=NOW), NOW)
    assert not is_publicly_visible(_ann(internal=True), NOW)
    assert not is_publicly_visible(_ann(start=NOW + timedelta(seconds=1)), NOW)
    assert not is_publicly_visible(_ann(cancelled_at=NOW - timedelta(minutes=1)), NOW)


def test_only_approved_items_reach_citizens_where_approval_applies() -> None:
    assert is_publicly_visible(_ann(approval="approved"), NOW)
    for held in ("draft", "pending", "rejected"):
        assert not is_publicly_visible(_ann(approval=held), NOW), held


def _item(key: str, title: str, text: str, emergency: bool = False) -> PublicItem:
    return PublicItem(
        key=key,
        title=title,
        text=text,
        aired_at=NOW - timedelta(hours=1),
        emergency=emergency,
        audio=PublicAudio("ab" * 32, "mp3", 12345, 61.4),
    )


def _feed(*items: PublicItem) -> bytes:
    return build_feed(
        title="Loa xã — Xã <A> & B",
        description="d",
        page_url="https://loa.example/public/xa-a/",
        media_url="https://loa.example/public/xa-a/media",
        commune_id="xa-a",
        items=items,
        built_at=NOW,
        emergency_label="Khẩn cấp",
    )


def test_feed_escapes_text_and_dates_are_rfc822() -> None:
    body = _feed(
        _item("a1", "Họp <b>thôn</b> & xóm", 'Giá 5 < 7 & "ok"'),
        _item("e9", "Bão", "Sơ tán", emergency=True),
    )
    root = ET.fromstring(body)
    items = root.findall("channel/item")
    assert [i.findtext("title") for i in items] == ["Họp <b>thôn</b> & xóm", "Khẩn cấp: Bão"]
    assert items[0].findtext("description") == 'Giá 5 < 7 & "ok"'
    assert parsedate_to_datetime(items[0].findtext("pubDate") or "") == NOW - timedelta(hours=1)
    enclosure = items[0].find("enclosure")
    assert enclosure is not None
    assert enclosure.attrib == {
        "url": "https://loa.example/public/xa-a/media/a1.mp3",
        "length": "12345",
        "type": "audio/mpeg",
    }
    parsed = feedparser.parse(body)
    assert not parsed.bozo and parsed.version == "rss20"
    assert parsed.entries[1].itunes_duration == "61"


def test_feed_skips_items_without_audio() -> None:
    body = _feed(PublicItem("a2", "t", "x", NOW, False, None))
    assert ET.fromstring(body).findall("channel/item") == []


def test_rate_limiter_bursts_then_refills_per_client() -> None:
    clock = FakeClock(NOW)
    limiter = PublicRateLimiter(clock, per_minute=60, burst=3)
    assert [limiter.take("1.2.3.4") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("1.2.3.4") == 1.0
    assert limiter.take("5.6.7.8") == 0.0  # another client has its own bucket
    clock.advance(2)
    assert limiter.take("1.2.3.4") == 0.0
    assert limiter.take("1.2.3.4") == 0.0
    assert limiter.take("1.2.3.4") > 0


def test_rate_limiter_forgets_oldest_clients() -> None:
    limiter = PublicRateLimiter(FakeClock(NOW), per_minute=60, burst=1, max_clients=2)
    limiter.take("a")
    limiter.take("b")
    limiter.take("c")  # "a" is forgotten: a fresh bucket again
    assert limiter.take("a") == 0.0


def test_qr_svg_encodes_the_url_at_medium_correction() -> None:
    svg = qr_svg("https://loa.example/public/xa-a/")
    assert svg.startswith("<svg") and "viewBox" in svg and "<?xml" not in svg
    ET.fromstring(svg)  # well-formed, embeddable inline
