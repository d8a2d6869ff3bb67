from __future__ import annotations

import pytest

from audio.normalise.numbers import read_digits, read_month, read_number


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "không"),
        (10, "mười"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (25, "hai mươi lăm"),
        (105, "một trăm lẻ năm"),
        (110, "một trăm mười"),
        (1_005, "một nghìn không trăm lẻ năm"),
        (2_025, "hai nghìn không trăm hai mươi lăm"),
        (1_500_000, "một triệu năm trăm nghìn"),
        (1_000_005, "một triệu không trăm lẻ năm"),
        (3_000_000_000, "ba tỷ"),
        (-4, "âm bốn"),
    ],
)
def test_read_number(n: int, words: str) -> None:
    assert read_number(n) == words


def test_digits_and_months() -> None:
    assert read_digits("0912") == "không chín một hai"
    assert [read_month(m) for m in (1, 4, 12)] == ["một", "tư", "mười hai"]
