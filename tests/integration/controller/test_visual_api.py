"""E-board content through the API: slide upload checked by its bytes, announcements with a
``visual`` block, and the signed playlist a node receives carrying it."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import images
from support.published import published_playlist

from controller.app import create_app
from controller.broker.process import MosquittoProcess
from controller.config import ControllerSettings
from controller.db.models import Announcement

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, module_broker: MosquittoProcess
) -> Iterator[TestClient]:
    settings = ControllerSettings(
        data_dir=tmp_path_factory.mktemp("ctl"),
        tts_engine_order=["espeak-ng"],
        mqtt_port=module_broker.port,
        mqtt_client_id="ctl-visual",
    )
    with TestClient(create_app(settings)) as c:
        body = {"id": "xa-an-hoa", "name": "Xã An Hòa", "kind": "xã"}
        assert c.post("/api/v1/zones", json=body).status_code == 201
        body = {"id": "an-hoa-1", "name": "an-hoa-1", "zone_id": "xa-an-hoa"}
        assert c.post("/api/v1/nodes", json=body).status_code == 201
        yield c


def _upload(client: TestClient, data: bytes, name: str = "s.png") -> Any:
    return client.post("/api/v1/uploads/image", files={"file": (name, data, "image/png")})


def test_signed_playlist_carries_the_visual_block(client: TestClient) -> None:
    slide = images.png()
    r = _upload(client, slide)
    assert r.status_code == 201, r.text
    image = r.json()
    assert image["ext"] == "png" and image["size"] == len(slide)
    served = client.get(f"/media/{image['sha256']}.png")
    assert served.content == slide and served.headers["content-type"] == "image/png"

    text = "Kính mời bà con thôn Đông họp lúc 8 giờ."
    body = {
        "text": text,
        "targets": ["xa-an-hoa"],
        "visual": {
            "ticker": "Nhà văn hoá thôn Đông",
            "slides": [{"image_sha256": image["sha256"], "duration_s": 7}],
        },
    }
    r = client.post("/api/v1/announcements", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["visual"]["text"] == text  # board text defaults to the announcement's
    (item,) = [i for i in published_playlist(client, "an-hoa-1").items if i.id.startswith("ann-")]
    assert item.visual is not None
    assert (item.visual.text, item.visual.ticker) == (text, "Nhà văn hoá thôn Đông")
    (shown,) = item.visual.slides
    assert (shown.image.sha256, shown.image.ext, shown.image.size, shown.duration_s) == (
        image["sha256"],
        "png",
        len(slide),
        7.0,
    )


def test_bad_slides_and_images_get_422_and_nothing_is_stored(client: TestClient) -> None:
    ctl: Any = client.app.state.controller  # type: ignore[attr-defined]
    with ctl.sessions() as session:
        before = session.query(Announcement).count()
    r = _upload(client, b"GIF89a" + b"\0" * 32, "x.png")
    assert r.status_code == 422 and "not a PNG or JPEG" in r.text
    assert _upload(client, b"").status_code == 422
    for visual in (
        {"slides": [{"image_sha256": "0" * 64}]},  # never uploaded
        {"slides": [{"image_sha256": "xyz"}]},
        {"slides": [], "colour": "red"},  # unknown field
        {"text": "x" * 2001},
    ):
        body = {"text": "Thông báo", "targets": ["xa-an-hoa"], "visual": visual}
        r = client.post("/api/v1/announcements", json=body)
        assert r.status_code == 422, (visual, r.text)
    with ctl.sessions() as session:
        assert session.query(Announcement).count() == before


def test_pdf_pages_become_png_slides(client: TestClient) -> None:
    r = client.post(
        "/api/v1/uploads/pdf", files={"file": ("tb.pdf", images.pdf(3), "application/pdf")}
    )
    assert r.status_code == 201, r.text
    pages = r.json()
    assert [p["ext"] for p in pages] == ["png"] * 3
    assert len({p["sha256"] for p in pages}) == 3  # each page's own text: three images
    first = client.get(f"/media/{pages[0]['sha256']}.png").content
    assert first.startswith(b"\x89PNG")
    width, height = struct.unpack(">II", first[16:24])
    assert max(width, height) == 1920 and height > width  # an A6 portrait page, full-HD
    body = {
        "text": "Thông báo có văn bản",
        "targets": ["xa-an-hoa"],
        "visual": {"slides": [{"image_sha256": p["sha256"], "duration_s": 5} for p in pages]},
    }
    assert client.post("/api/v1/announcements", json=body).status_code == 201


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (images.png(), "not a PDF"),
        (b"%PDF-1.4\n garbage", "not a readable PDF"),
        (images.pdf(21), "21 pages; the limit is 20"),
    ],
)
def test_bad_pdfs_get_422_with_a_reason(client: TestClient, data: bytes, reason: str) -> None:
    r = client.post("/api/v1/uploads/pdf", files={"file": ("x.pdf", data, "application/pdf")})
    assert r.status_code == 422 and reason in r.json()["detail"], r.text
