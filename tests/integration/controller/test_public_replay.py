"""The citizens' replay: ``/public/{commune}/`` page, podcast feed, poster and public audio.

Over the two seeded communes (A: xã Đồng Tiến, B: xã Vi Hương) with real rendered speech:
only A's public, aired, uncancelled items appear on A's page and feed and only their audio is
served; nothing else of the controller (node ids, targets, users, other communes) leaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree as ET

import feedparser
import pytest
from integration.controller.test_route_matrix import _wav
from integration.controller.two_communes import Communes

from controller.db.models import Announcement
from controller.public.ratelimit import PublicRateLimiter
from protocol.clock import FakeClock

pytestmark = pytest.mark.integration

V = "/api/v1"
PAGE = "/public/xa-dong-tien/"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
# what must never reach a citizen: node ids, target zone ids, user names, internal paths
SECRETS = ("dong-an-1", "khe-ngo-1", "cay-thi-1", "vi-huong-1", "ban-dong-an", "/api/v1", "/panel")


@dataclass(frozen=True)
class Replay:
    env: Communes
    public: int
    internal: int
    future: int
    cancelled: int
    other_commune: int


def _announce(env: Communes, text: str, target: str, aired: bool = True, **extra: object) -> int:
    start = (env.ctl.clock.now() + timedelta(hours=2)).isoformat()
    body = {"text": text, "targets": [target], "start": start, **extra}
    r = env.call("admin", "POST", f"{V}/announcements", json=body)
    assert r.status_code == 201, r.text
    ann_id = int(r.json()["id"])
    if aired:  # it went on the air an hour ago (the API only takes future starts)
        with env.ctl.sessions.begin() as session:
            ann = session.get(Announcement, ann_id)
            assert ann is not None
            ann.start = env.ctl.clock.now() - timedelta(hours=1)
    return ann_id


@pytest.fixture(scope="module")
def replay(communes: Communes) -> Replay:
    env = communes
    public = _announce(env, "Mời bà con họp PUBLICMARK tại nhà văn hóa.", "ban-dong-an")
    internal = _announce(
        env, "Họp cán bộ INTERNALMARK.", "ban-dong-an", internal=True, title="Nội bộ"
    )
    future = _announce(env, "Lịch tiêm FUTUREMARK.", "ban-dong-an", aired=False)
    cancelled = _announce(env, "Thông báo CANCELMARK.", "ban-dong-an")
    r = env.call("admin", "DELETE", f"{V}/announcements/{cancelled}")
    assert r.status_code == 204, r.text
    other = _announce(env, "Thông báo OTHERMARK của xã khác.", "vi-huong-thon-1")
    return Replay(env, public, internal, future, cancelled, other)


def _base(env: Communes) -> str:
    """The controller's public address: absolute links in the page, feed and poster."""
    return env.ctl.settings.resolved_public_url


def _get(env: Communes, path: str) -> str:
    r = env.call("anonymous", "GET", path)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def test_page_shows_only_the_communes_public_aired_items(replay: Replay) -> None:
    r = replay.env.call("anonymous", "GET", PAGE)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "PUBLICMARK" in page
    assert f'id="a{replay.public}"' in page
    for hidden in ("INTERNALMARK", "FUTUREMARK", "CANCELMARK", "OTHERMARK", "Khẩn cấp vi-huong"):
        assert hidden not in page, hidden
    for secret in (*SECRETS, "admin", "created_by"):
        assert secret not in page, secret
    # the audio player points at the public media route of this commune
    assert f'src="{_base(replay.env)}{PAGE}media/a{replay.public}.mp3"' in page
    assert "<audio controls" in page
    assert 'name="viewport"' in page  # readable on a phone


def test_emergencies_come_first(replay: Replay) -> None:
    page = _get(replay.env, PAGE)
    emergency = page.index(f'id="e{replay.env.ids["emergency_a"]}"')
    bulletin = page.index(f'id="a{replay.public}"')
    assert emergency < bulletin
    assert 'class="emergency"' in page[emergency : emergency + 80]


def test_other_commune_sees_its_own_items_only(replay: Replay) -> None:
    page = _get(replay.env, "/public/xa-vi-huong/")
    assert "OTHERMARK" in page and "Khẩn cấp vi-huong" in page
    assert "PUBLICMARK" not in page and "dong-an" not in page


def test_unknown_or_malformed_commune_is_404(replay: Replay) -> None:
    for path in ("/public/xa-khong-co/", "/public/XA/feed.xml", "/public/xa-khong-co/poster"):
        assert replay.env.call("anonymous", "GET", path).status_code == 404, path


def test_feed_is_valid_rss_with_enclosures(replay: Replay) -> None:
    env = replay.env
    r = env.call("anonymous", "GET", f"{PAGE}feed.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/rss+xml")
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert "Đồng Tiến" in parsed.feed.title
    guids = [e.id for e in parsed.entries]
    assert f"loa-xa-dong-tien-a{replay.public}" in guids
    assert f"loa-xa-dong-tien-e{env.ids['emergency_a']}" in guids
    for hidden in (replay.internal, replay.future, replay.cancelled, replay.other_commune):
        assert f"loa-xa-dong-tien-a{hidden}" not in guids
    assert all(e.enclosures for e in parsed.entries)
    for entry in parsed.entries:
        enclosure = entry.enclosures[0]
        assert enclosure.type == "audio/mpeg"
        audio = env.call("anonymous", "GET", enclosure.href.removeprefix(_base(env)))
        assert audio.status_code == 200, enclosure.href
        assert int(enclosure.length) == len(audio.content) > 1000
        assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF
    for secret in (*SECRETS, "INTERNALMARK", "OTHERMARK", "FUTUREMARK"):
        assert secret not in r.text, secret


def test_feed_structure(replay: Replay) -> None:
    """RSS 2.0 by hand, independent of feedparser's leniency."""
    base = _base(replay.env)
    root = ET.fromstring(_get(replay.env, f"{PAGE}feed.xml").encode())
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert channel.findtext("link") == f"{base}{PAGE}"
    items = channel.findall("item")
    assert len(items) >= 2
    dates = []
    for item in items:
        assert (item.findtext("title") or "").strip()
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false" and guid.text
        pub = item.findtext("pubDate") or ""
        assert RFC822.match(pub), pub
        dates.append(parsedate_to_datetime(pub))
        enclosure = item.find("enclosure")
        assert enclosure is not None
        assert enclosure.get("url", "").startswith(f"{base}{PAGE}media/")
        assert int(enclosure.get("length", "0")) > 0
        assert enclosure.get("type") == "audio/mpeg"
    now = datetime.now(UTC)
    assert all(now - timedelta(days=31) < d <= now + timedelta(minutes=1) for d in dates)


def test_media_only_for_public_items_of_the_commune(replay: Replay) -> None:
    env = replay.env
    media = f"{PAGE}media"
    ok = env.call("anonymous", "GET", f"{media}/a{replay.public}.mp3")
    assert ok.status_code == 200 and ok.headers["content-type"] == "audio/mpeg"
    assert "max-age" in ok.headers["cache-control"]
    for refused in (
        f"{media}/a{replay.internal}.mp3",
        f"{media}/a{replay.future}.mp3",
        f"{media}/a{replay.cancelled}.mp3",
        f"{media}/a{replay.other_commune}.mp3",  # B's item through A's page
        f"/public/xa-vi-huong/media/a{replay.public}.mp3",  # A's item through B's page
        f"{media}/a{replay.public}.wav",
        f"{media}/a{replay.public}",
        f"{media}/..%2Fsecret.mp3",
        f"{media}/{env.ids['media']}",  # the content address is not a public name
    ):
        assert env.call("anonymous", "GET", refused).status_code == 404, refused


def test_caching_and_security_headers(replay: Replay) -> None:
    r = replay.env.call("anonymous", "GET", PAGE)
    assert r.headers["cache-control"] == "public, max-age=60"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in r.headers
    feed = replay.env.call("anonymous", "GET", f"{PAGE}feed.xml")
    assert feed.headers["cache-control"] == "public, max-age=60"


def test_poster_has_the_qr_code_of_the_page(replay: Replay) -> None:
    poster = _get(replay.env, f"{PAGE}poster")
    assert "<svg" in poster and 'class="qrline"' in poster
    assert f"{_base(replay.env)}{PAGE}" in poster
    assert "Đồng Tiến" in poster and "@page" in poster


def test_marking_internal_hides_it_everywhere(replay: Replay) -> None:
    env = replay.env
    path = f"{V}/announcements/{replay.public}/visibility"
    try:
        r = env.call("operator", "PUT", path, json={"internal": True})
        assert r.status_code == 200 and r.json()["internal"] is True, r.text
        assert "PUBLICMARK" not in _get(env, PAGE)
        assert "PUBLICMARK" not in _get(env, f"{PAGE}feed.xml")
        assert env.call("anonymous", "GET", f"{PAGE}media/a{replay.public}.mp3").status_code == 404
        assert env.call("other", "PUT", path, json={"internal": False}).status_code == 404
        assert env.call("viewer", "PUT", path, json={"internal": False}).status_code == 403
        bad = env.call("operator", "PUT", path, json={"internal": "maybe", "x": 1})
        assert bad.status_code == 422
    finally:
        r = env.call("operator", "PUT", path, json={"internal": False})
        assert r.status_code == 200 and r.json()["internal"] is False
    assert "PUBLICMARK" in _get(env, PAGE)


def test_panel_checkbox_and_toggle(replay: Replay) -> None:
    env = replay.env
    form = env.call("operator", "GET", "/panel/announcements/new")
    assert 'name="internal"' in form.text
    listing = env.call("operator", "GET", "/panel/announcements")
    assert f"/panel/announcements/{replay.internal}/internal" in listing.text
    target = f"/panel/announcements/{replay.internal}/internal"
    assert env.call("other", "POST", target, data={"internal": "0"}).status_code == 404
    r = env.call("operator", "POST", target, data={"internal": "0"})
    assert r.status_code == 303, r.text
    try:
        assert "INTERNALMARK" in _get(env, PAGE)
    finally:
        assert env.call("operator", "POST", target, data={"internal": "1"}).status_code == 303
    assert "INTERNALMARK" not in _get(env, PAGE)


@pytest.fixture
def tight_limit(replay: Replay) -> Iterator[FakeClock]:
    state = replay.env.client.app.state  # type: ignore[attr-defined]
    saved = state.public_limiter
    clock = FakeClock(datetime(2026, 12, 1, tzinfo=UTC))
    state.public_limiter = PublicRateLimiter(clock, per_minute=6, burst=2)
    try:
        yield clock
    finally:
        state.public_limiter = saved


def test_rate_limit_answers_429_with_retry_after(replay: Replay, tight_limit: FakeClock) -> None:
    env = replay.env
    assert env.call("anonymous", "GET", PAGE).status_code == 200
    assert env.call("anonymous", "GET", f"{PAGE}feed.xml").status_code == 200
    refused = env.call("anonymous", "GET", PAGE)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    tight_limit.advance(10)
    assert env.call("anonymous", "GET", PAGE).status_code == 200


def test_each_language_has_its_player(replay: Replay) -> None:
    env = replay.env
    upload = env.call(
        "operator", "POST", f"{V}/uploads/audio", files={"file": ("tay.wav", _wav(), "audio/wav")}
    )
    assert upload.status_code == 201, upload.text
    variant = {"language": "tay", "media_sha256": upload.json()["sha256"]}
    ann = _announce(env, "Thông báo LANGMARK hai thứ tiếng.", "ban-dong-an", variants=[variant])
    page = _get(env, PAGE)
    article = page[page.index(f'id="a{ann}"') :]
    article = article[: article.index("</article>")]
    assert "Tiếng Việt" in article and "Tiếng Tày" in article
    assert article.index("Tiếng Việt") < article.index("Tiếng Tày")
    assert f"media/a{ann}-tay.mp3" in article and f"media/a{ann}.mp3" in article
    tay = env.call("anonymous", "GET", f"{PAGE}media/a{ann}-tay.mp3")
    assert tay.status_code == 200 and len(tay.content) == upload.json()["size"]
    assert env.call("anonymous", "GET", f"{PAGE}media/a{ann}-hmn.mp3").status_code == 404
    bad = env.call(
        "operator",
        "POST",
        f"{V}/announcements",
        json={"text": "x", "targets": ["ban-dong-an"], "variants": [{**variant, "language": "xx"}]},
    )
    assert bad.status_code == 422 and "xx" in bad.text
