"""Issue 14: who may fetch ``/media/{sha256}.{ext}`` — every use of a file counts, nodes
fetch only what reaches them, and a fresh file is its maker's.

Commune A is xã Đồng Tiến (node ``dong-an-1`` in thôn Đồng An), commune B xã Vi Hương (node
``vi-huong-1`` in thôn 1). Each test failed on the code before: a slide or a relay fallback
counted as "nothing uses it" (any signed-in user heard it), a node fetched any file, and a
fresh preview or upload was heard by every signed-in user.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from integration.controller.two_communes import Communes
from support import audio_files, images

from controller.db.models import Announcement, Emergency
from controller.services.commands import build_command, play_now_item, store_and_publish
from protocol.models import CommandAction

pytestmark = pytest.mark.integration

A_VILLAGE, B_VILLAGE = "ban-dong-an", "vi-huong-thon-1"


@pytest.fixture(scope="module")
def nodes(communes: Communes) -> dict[str, dict[str, str]]:
    """HTTP Basic headers of one enrolled node in each commune (their own broker login)."""
    found = {}
    for key, node in (("a", "dong-an-1"), ("b", "vi-huong-1")):
        r = communes.call("admin", "POST", f"/api/v1/nodes/{node}/enrolment-token")
        assert r.status_code == 200, r.text
        creds = communes.call(
            "anonymous", "POST", "/api/v1/enrol", json={"token": r.json()["enrol_token"]}
        )
        assert creds.status_code == 200, creds.text
        login = f"{creds.json()['mqtt_username']}:{creds.json()['mqtt_password']}"
        found[key] = {"authorization": "Basic " + base64.b64encode(login.encode()).decode()}
    return found


def _get(env: Communes, who: str | dict[str, str], name: str) -> httpx.Response:
    if isinstance(who, str):
        return env.call(who, "GET", f"/media/{name}")
    return env.call("anonymous", "GET", f"/media/{name}", headers=who)


def _codes(env: Communes, name: str, *callers: str | dict[str, str]) -> list[int]:
    return [_get(env, who, name).status_code for who in callers]


def _later(env: Communes) -> str:
    return (env.ctl.clock.now() + timedelta(hours=5)).isoformat()


def _slide(env: Communes, who: str, rgb: tuple[int, int, int]) -> str:
    files = {"file": ("s.png", images.png(rgb=rgb), "image/png")}
    r = env.call(who, "POST", "/api/v1/uploads/image", files=files)
    assert r.status_code == 201, r.text
    return str(r.json()["sha256"])


def _recording(env: Communes, who: str, frequency: int) -> dict[str, Any]:
    wav = audio_files.tone(0.5, "wav", frequency=frequency)
    r = env.call(who, "POST", "/api/v1/uploads/audio", files={"file": ("r.wav", wav, "audio/wav")})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _announce(env: Communes, target: str, text: str, **extra: Any) -> int:
    body = {"text": text, "targets": [target], "start": _later(env), **extra}
    r = env.call("admin", "POST", "/api/v1/announcements", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _announcement_file(env: Communes, key: str) -> str:
    with env.ctl.sessions() as session:
        ann = session.get(Announcement, env.ids[key])
        assert ann is not None and ann.media is not None
        return f"{ann.media.sha256}.{ann.media.ext}"


def test_a_slide_is_heard_only_where_its_announcement_reaches(
    communes: Communes, nodes: dict[str, dict[str, str]]
) -> None:
    sha = _slide(communes, "operator", (10, 200, 10))
    name = f"{sha}.png"
    visual = {"slides": [{"image_sha256": sha, "duration_s": 5}]}
    _announce(communes, A_VILLAGE, "Họp thôn dong-an có trình chiếu.", visual=visual)
    assert _codes(communes, name, "viewer", "operator", "admin", nodes["a"]) == [200] * 4
    assert _codes(communes, name, "other", "other-viewer", nodes["b"]) == [404] * 3


def test_a_relay_fallback_is_heard_only_where_its_programme_entry_reaches(
    communes: Communes, nodes: dict[str, dict[str, str]]
) -> None:
    fallback = _recording(communes, "operator", 523)
    name = f"{fallback['sha256']}.{fallback['ext']}"
    body = {
        "kind": "stream",
        "title": "Tiếp sóng VOV dong-an",
        "stream_url": "http://127.0.0.1:9/vov1.mp3",
        "fallback_sha256": fallback["sha256"],
        "duration_s": 600,
        "targets": [A_VILLAGE],
        "rule": {
            "freq": "daily",
            "time": "06:00",
            "start_date": communes.ctl.clock.now().date().isoformat(),
        },
    }
    r = communes.call("operator", "POST", "/api/v1/schedules", json=body)
    assert r.status_code == 201, r.text
    assert _codes(communes, name, "viewer", "operator", nodes["a"]) == [200] * 3
    assert _codes(communes, name, "other", "other-viewer", nodes["b"]) == [404] * 3


def test_a_node_fetches_what_reaches_it_and_nothing_of_another_commune(
    communes: Communes, nodes: dict[str, dict[str, str]]
) -> None:
    """Its own commune's announcement (also by its Opus rendition) and emergency (the
    standard notice every agent keeps is played this way), whatever zone above it they
    target; another commune's answer 404 like a missing file."""
    b_node = nodes["b"]
    ann_a, ann_b = (_announcement_file(communes, k) for k in ("announcement_a", "announcement_b"))
    with communes.ctl.sessions() as session:
        emg = {k: session.get(Emergency, communes.ids[f"emergency_{k}"]) for k in ("a", "b")}
        emg_a, emg_b = (f"{e.media_sha256}.mp3" for e in emg.values() if e is not None)
    assert _codes(communes, ann_b, b_node, nodes["b"]) == [200, 200]
    assert _codes(communes, emg_b, b_node) == [200]
    assert _codes(communes, ann_a, b_node) == [404]
    assert _codes(communes, emg_a, b_node) == [404]
    assert _codes(communes, ann_a, nodes["a"]) == [200]

    renditions = communes.ctl.renditions
    assert renditions is not None
    opus = renditions.opus_for(ann_b.partition(".")[0], "mp3")
    assert opus is not None
    opus_name = f"{opus.sha256}.{opus.ext}"
    assert _codes(communes, opus_name, b_node, nodes["a"], "other", "viewer") == [
        200,
        404,
        200,
        404,
    ]

    # a commune-wide and a province-wide announcement reach it through the zones above it
    commune_wide = _announce(communes, "xa-vi-huong", "Toàn xã vi-huong nghe.")
    province = _announce(communes, "tinh-thai-nguyen", "Toàn tỉnh Thái Nguyên nghe.")
    with communes.ctl.sessions() as session:
        files = {}
        for ann_id in (commune_wide, province):
            row = session.get(Announcement, ann_id)
            assert row is not None and row.media is not None
            files[ann_id] = f"{row.media.sha256}.{row.media.ext}"
    assert _codes(communes, files[commune_wide], b_node, nodes["a"]) == [200, 404]
    assert _codes(communes, files[province], b_node, nodes["a"]) == [200, 404]  # A: Bắc Ninh


def test_a_play_now_command_is_fetched_by_the_node_it_was_sent_to(
    communes: Communes, nodes: dict[str, dict[str, str]]
) -> None:
    ctl = communes.ctl
    item = play_now_item(ctl, "Loa vi-huong phát ngay bây giờ.", "vi-huong-1")
    command = build_command(
        ctl.clock, action=CommandAction.PLAY_NOW, node_id="vi-huong-1", item=item
    )
    store_and_publish(ctl, command, "admin")
    assert item.media is not None
    name = item.media.filename
    assert _codes(communes, name, nodes["b"], "other") == [200, 200]
    assert _codes(communes, name, nodes["a"], "viewer") == [404, 404]


def test_a_fresh_preview_sample_or_upload_is_heard_by_its_maker_and_admins_only(
    communes: Communes, nodes: dict[str, dict[str, str]]
) -> None:
    body = {"text": "Bản nghe thử dong-an riêng của người soạn."}
    r = communes.call("operator", "POST", "/api/v1/tts/preview", json=body)
    assert r.status_code == 200, r.text
    preview = r.headers["x-loa-media"]
    sample = {"written": "Nà Pồng", "spoken": "Na Pông", "zone_id": "xa-dong-tien",
              "sample": "Bà con bản Nà Pồng dong-an nghe thử."}  # fmt: skip
    r = communes.call("operator", "POST", "/api/v1/pronunciations/preview", json=sample)
    assert r.status_code == 200, r.text
    pronounced = r.headers["x-loa-media"]
    upload = _recording(communes, "operator", 659)
    uploaded = f"{upload['sha256']}.{upload['ext']}"
    image = f"{_slide(communes, 'operator', (1, 2, 250))}.png"
    for name in (preview, pronounced, uploaded, image):
        assert _codes(communes, name, "operator", "admin") == [200, 200], name
        # nothing uses it yet: not another commune, not a colleague, not a node
        assert _codes(communes, name, "other", "viewer", "approver") == [404] * 3, name
        assert _codes(communes, name, nodes["a"], nodes["b"]) == [404, 404], name
