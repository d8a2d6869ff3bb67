"""``loa vocabulary export|import``: the pronunciation dictionary round-trips through YAML
with the shipped vocabulary, a bad file changes nothing, and entries apply to renders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from cli.controller_access import open_controller
from cli.main import main
from controller.db.models import Pronunciation, Zone
from controller.services.pronunciation import entries_for_zones

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOA_DATA_DIR", str(tmp_path / "ctl"))
    monkeypatch.setenv("LOA_TTS_ENGINE_ORDER", '["espeak-ng"]')
    ctl = open_controller(None)
    with ctl.sessions.begin() as session:
        session.add(Zone(id="tinh-lang-son", name="Tỉnh Lạng Sơn", kind="tỉnh", created_at=NOW))
        session.flush()
        session.add(
            Zone(id="xa-dong-tien", name="Xã Đồng Tiến", parent_id="tinh-lang-son", created_at=NOW)
        )
    ctl.engine.dispose()
    return tmp_path


def _rows() -> list[tuple[str, str, str]]:
    ctl = open_controller(None)
    try:
        with ctl.sessions() as session:
            return [
                (r.scope_zone_id, r.written, r.spoken)
                for r in session.scalars(select(Pronunciation).order_by(Pronunciation.written))
            ]
    finally:
        ctl.engine.dispose()


def test_import_then_export_round_trips_with_the_vocabulary(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = data_dir / "in.yaml"
    source.write_text(
        "pronunciations:\n"
        "  tinh-lang-son:\n    GTNT: giao thông nông thôn\n"
        "  xa-dong-tien:\n    Nà Pồng: Na Pông\n",
        encoding="utf-8",
    )
    assert main(["vocabulary", "import", str(source)]) == 0
    assert "imported 2 pronunciations" in capsys.readouterr().out
    out = data_dir / "out.yaml"
    assert main(["vocabulary", "export", "-o", str(out)]) == 0
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert exported["vocabulary"]["abbreviations"]["UBND"] == "ủy ban nhân dân"
    assert exported["pronunciations"] == {
        "tinh-lang-son": {"GTNT": "giao thông nông thôn"},
        "xa-dong-tien": {"Nà Pồng": "Na Pông"},
    }
    # re-importing the export (vocabulary unchanged) updates nothing and adds nothing
    assert main(["vocabulary", "import", str(out)]) == 0
    assert len(_rows()) == 2
    ctl = open_controller(None)
    with ctl.sessions() as session:
        entries = entries_for_zones(session, ["xa-dong-tien"])
    words = ctl.renderer.normalise("Làm đường GTNT qua Nà Pồng.", entries)
    ctl.engine.dispose()
    assert words == "Làm đường giao thông nông thôn qua Na Pông."


def test_vocabulary_changes_need_a_zone_to_be_stored(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = data_dir / "in.yaml"
    source.write_text(
        "vocabulary:\n  abbreviations:\n    UBND: ủy ban nhân dân\n    HTXDV: hợp tác xã dịch vụ\n",
        encoding="utf-8",
    )
    assert main(["vocabulary", "import", str(source)]) == 0
    assert "HTXDV" in capsys.readouterr().err and _rows() == []
    assert main(["vocabulary", "import", str(source), "--zone", "tinh-lang-son"]) == 0
    assert _rows() == [("tinh-lang-son", "HTXDV", "hợp tác xã dịch vụ")]


def test_a_bad_file_is_refused_and_nothing_is_written(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = data_dir / "bad.yaml"
    source.write_text(
        "pronunciations:\n  xa-dong-tien:\n    Nà Pồng: Na Pông\n    Bản 5: bản 5\n",
        encoding="utf-8",
    )
    assert main(["vocabulary", "import", str(source)]) == 2
    assert "words only" in capsys.readouterr().err
    assert _rows() == []
    source.write_text("pronunciations:\n  khong-co:\n    A: a\n", encoding="utf-8")
    assert main(["vocabulary", "import", str(source)]) == 2
    assert "unknown zone" in capsys.readouterr().err
    assert main(["vocabulary", "import", str(data_dir / "none.yaml")]) == 2
    source.write_text("- not a mapping\n", encoding="utf-8")
    assert main(["vocabulary", "import", str(source)]) == 2
