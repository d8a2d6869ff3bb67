"""Issue 16 item 9: nothing English or technical reaches a Vietnamese page.

Every panel page (and the error states people meet: a refused form, a bad upload, a bad
recurrence, a missing page, a forbidden page) is fetched as each role in Vietnamese; its
visible text (text nodes plus placeholder/title/aria-label/alt) must hold no English
sentence from the catalogue, no catalogue key, and none of the jargon operators reported
(engine names, ``play_now``, "nhịp tim", item ids, raw zone ids outside parentheses...).
The English panel is crawled too: it must show no raw catalogue key.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from integration.panel.panel_support import Panel

from controller.db.models import PlaybackEvent
from controller.services.seed import ZONES

pytestmark = pytest.mark.integration

I18N = Path(__file__).resolve().parents[3] / "controller" / "panel" / "i18n"
VI = json.loads((I18N / "vi.json").read_text(encoding="utf-8"))
EN = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
PAGES = (
    "/panel/",
    "/panel/live",
    "/panel/nodes",
    "/panel/nodes/dong-an-1",
    "/panel/map",
    "/panel/announcements",
    "/panel/announcements/new",
    "/panel/schedule",
    "/panel/logs",
    "/panel/logs?status=finished&node=dong-an-1",
    "/panel/emergency",
    "/panel/inbox",
    "/panel/bulletins/new",
    "/panel/dictionary",
    "/panel/reports/monthly",
    "/panel/audit",
    "/panel/users",
    "/panel/updates",
    "/panel/tokens",
    "/panel/password",
    "/panel/no-such-page",
)
JARGON = [
    r"\bgtts\b",
    r"\bpiper\b",
    r"espeak",
    r"play_now",
    r"nhịp tim",
    r"heartbeat",
    r"ffmpeg",
    r"synthes",
    r"\bNone\b",
    r"\bnull\b",
    r"Input should",
    r"Field required",
    r"value_error",
    r"Traceback",
    r"\"detail\"",
    r"FREQ=",
    r"\bann-\d+",
    r"\bemg-",
    r"@\d{8}T\d{6}Z",
    r"(?i)sha-?256",  # a recording is picked by its title, never by its hash
    # a zone is shown by its name; its id only as secondary text, in parentheses
    *(rf"(?<![(\w-]){re.escape(z.id)}(?![\w-]|\))" for z in ZONES),
]


VOID = {"br", "img", "input", "meta", "link", "hr", "source", "col", "wbr"}


class _Visible(HTMLParser):
    """Visible text; what sits inside an id's secondary text (``class="... id"``) or a
    verbatim record (``translate="no"``, the audit trail) is kept apart in ``secondary``."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []
        self.secondary: list[str] = []
        self.exempt: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag not in VOID and (self.exempt or "id" in classes or values.get("translate") == "no"):
            self.exempt.append(tag)
        for name in ("placeholder", "title", "aria-label", "alt"):
            if values.get(name):
                self.parts.append(values[name] or "")
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden -= 1
        if self.exempt and self.exempt[-1] == tag:
            self.exempt.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            (self.secondary if self.exempt else self.parts).append(data.strip())


def visible(html: str) -> str:
    """The primary visible text (ids as secondary text and verbatim records left out)."""
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def _english_fragments() -> list[str]:
    """English catalogue text that a Vietnamese page can never legitimately hold: each
    piece between placeholders, of at least two words or one long word, not also in any
    Vietnamese message ("MP3, WAV", "OpenStreetMap", "CSV" are shared)."""
    vi_text = "\n".join(VI.values()).lower()
    found = set()
    for key, text in EN.items():
        if VI.get(key) == text:
            continue
        for piece in re.split(r"\{[^}]*\}", text):
            piece = piece.strip(" .,:;!?()«»“”·—–-/\u2026")
            words = re.findall(r"[A-Za-z]{2,}", piece)
            long_word = len(words) == 1 and len(words[0]) >= 6 and words[0] == piece
            if (len(words) >= 2 or long_word) and piece.lower() not in vi_text:
                found.add(piece)
    return sorted(found, key=len, reverse=True)


ENGLISH = _english_fragments()
KEY_SHAPED = re.compile(r"\b[a-z_]+\.[a-z_]+(?:\.[a-z_0-9-]+)*\b")


def leaks(text: str, lang: str = "vi") -> list[str]:
    found = [f"key {k}" for k in KEY_SHAPED.findall(text) if k in VI or k in EN]
    if lang == "vi":
        found += [f"English «{e}»" for e in ENGLISH if re.search(rf"\b{re.escape(e)}\b", text)]
        found += [f"jargon {j}" for j in JARGON if re.search(j, text)]
    return found


@pytest.fixture(scope="module")
def busy(panel: Panel) -> Panel:
    """Pages with rows: a one-off and a repeating announcement, a play-now command, and
    a played item in the log."""
    client = panel.as_("operator")
    base = {"csrf": panel.csrf["operator"], "targets": ["ban-dong-an"], "text": "Kính thưa bà con."}
    later = (datetime.now(UTC) + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    assert (
        client.post("/panel/announcements", data=base | {"when": "at", "at": later}).status_code
        == 303
    )
    rule = {"when": "recurring", "freq": "weekly", "weekdays": ["MO", "TH"], "time_of_day": "06:40"}
    assert client.post("/panel/announcements", data=base | rule).status_code == 303
    command = {"csrf": panel.csrf["operator"], "action": "play_now", "text": "Thử loa."}
    assert client.post("/panel/nodes/dong-an-1/command", data=command).status_code == 303
    ctl = panel.client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions.begin() as session:
        now = ctl.clock.now()
        for seq, kind in enumerate(("started", "finished"), start=1):
            session.add(
                PlaybackEvent(
                    node_id="dong-an-1",
                    seq=7000 + seq,
                    kind=kind,
                    at=now - timedelta(minutes=5 - seq),
                    item_id="ann-1@20260101T000000Z#0",
                    detail="late by 1.5s" if kind == "started" else "",
                    received_at=now,
                )
            )
    return panel


def test_the_guard_finds_what_it_looks_for() -> None:
    """The checks themselves work (they would have caught the reported leaks)."""
    assert leaks("Giọng: espeak-ng") and leaks("Tình trạng (các nhịp tim gần nhất)")
    assert leaks("Khu vực: ban-dong-an") and not leaks("Bản Đồng An (ban-dong-an)")
    html = '<p>Họp thôn <small class="muted id">ann-1@20260101T000000Z#0</small></p>'
    assert visible(html) == "Họp thôn" and leaks(visible(html.replace("muted id", "muted")))
    assert leaks("a.mp3: not an audio file ffmpeg can read")
    assert leaks("Lệnh play_now") and leaks("ann-12@20260101T000000Z#0")
    assert leaks(EN["ann.no_conflicts"]) and not leaks(VI["ann.no_conflicts"])
    assert leaks("map.state.playing", "en")
    assert len(ENGLISH) > 200


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_every_page_reads_in_vietnamese(busy: Panel, role: str) -> None:
    client = busy.as_(role)
    problems = {}
    for path in PAGES:
        r = client.get(path, headers={"Accept": "text/html"})
        assert r.status_code in (200, 403, 404), (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
        found = leaks(visible(r.text))
        if found:
            problems[path] = found
    assert problems == {}, problems


def test_error_states_read_in_vietnamese(busy: Panel) -> None:
    client = busy.as_("operator")
    csrf = busy.csrf["operator"]
    html = {"Accept": "text/html"}
    base = {"csrf": csrf, "text": "Kính thưa bà con.", "targets": ["ban-dong-an"]}
    answers = {
        # FastAPI's own validation (a number that is not one)
        "validation": client.post(
            "/panel/announcements", data=base | {"priority": "abc"}, headers=html
        ),
        "bad time": client.post(
            "/panel/announcements", data=base | {"when": "at", "at": "hôm qua"}
        ),
        "bad rule": client.post(
            "/panel/announcements",
            data=base | {"when": "recurring", "freq": "weekly", "time_of_day": "07:00"},
        ),
        "bad upload": client.post(
            "/panel/announcements/upload",
            files={"file": ("bai-doc.mp3", b"khong phai am thanh" * 50, "audio/mpeg")},
            data={"csrf": csrf},
        ),
        "bad command": client.post(
            "/panel/nodes/dong-an-1/command",
            data={"csrf": csrf, "action": "volume", "volume": "400"},
        ),
        "bad recurring time": client.post(
            "/panel/announcements", data=base | {"when": "recurring", "time_of_day": "7h sáng"}
        ),
        "bad move": client.post(
            "/panel/schedule/move", data={"csrf": csrf, "entry": "ann-2", "new_time": "25:99"}
        ),
        "forbidden": busy.as_("viewer").get("/panel/users", headers=html),
    }
    seen = {}
    for name, r in answers.items():
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
        if r.headers["content-type"].startswith("application/json"):
            text = r.json()["error"]
        else:
            text = visible(r.text)
        seen[name] = text
        assert leaks(text) == [], (name, leaks(text))
    assert "«Mức ưu tiên»" in seen["validation"]
    assert "không phải tệp âm thanh" in seen["bad upload"]
    assert "giọng đọc" not in seen["bad upload"].lower()  # no "could not synthesise" prefix
    assert "hãy chọn ít nhất một ngày" in seen["bad rule"]


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_the_english_panel_shows_no_raw_keys(busy: Panel, role: str) -> None:
    client = busy.as_(role)
    for path in PAGES:
        r = client.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert leaks(visible(r.text), "en") == [], path
