"""``loa bench reading``: one JSON object with the accuracy on the reading corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main


def test_json_on_the_project_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "reading", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"cases", "correct", "accuracy", "ms_p50", "failures"} <= report.keys()
    assert report["cases"] >= 400
    assert report["accuracy"] >= 0.98
    assert report["correct"] == report["cases"] - len(report["failures"])
    assert 0 < report["ms_p50"] < 100


def test_failures_are_listed_with_what_was_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "c.yaml"
    corpus.write_text(
        'digits:\n  - ["Gọi 113.", "Gọi một một ba."]\n'
        '  - ["Gọi 115.", "Gọi một trăm mười lăm."]\n',  # wrong on purpose
        encoding="utf-8",
    )
    assert main(["bench", "reading", "--corpus", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "1/2 read correctly" in out
    assert "got:      Gọi một một năm." in out
    assert main(["bench", "reading", "--json", "--corpus", str(corpus)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["cases"], report["correct"], report["accuracy"]) == (2, 1, 0.5)


def test_missing_or_malformed_corpus_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "reading", "--corpus", str(tmp_path / "none.yaml")]) == 2
    assert "cannot read the reading corpus" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("range:\n  - [one]\n", encoding="utf-8")
    assert main(["bench", "reading", "--corpus", str(bad)]) == 2
    assert "bad row" in capsys.readouterr().err
