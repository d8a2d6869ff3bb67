"""Commune notices read the Vietnamese way: hand-written expected readings.

Each row is a sentence as operators type it and the words an announcer would say.
"""

from __future__ import annotations

import pytest

from audio.normalise import TextNormaliser, Vocabulary
from audio.normalise.hamster import BasicVerbaliser

CASES: list[tuple[str, str]] = [
    # bodies and abbreviations
    ("UBND xã thông báo.", "ủy ban nhân dân xã thông báo."),
    ("HĐND xã khóa mới họp phiên thứ nhất.", "hội đồng nhân dân xã khóa mới họp phiên thứ nhất."),
    ("Ban công tác MTTQ thôn Đông.", "Ban công tác mặt trận tổ quốc thôn Đông."),
    ("HTX nông nghiệp Tân Tiến chia cổ tức.", "hợp tác xã nông nghiệp Tân Tiến chia cổ tức."),
    ("Đề nghị bà con gia hạn thẻ BHYT.", "Đề nghị bà con gia hạn thẻ bảo hiểm y tế."),
    ("Đóng BHXH tự nguyện tại bưu điện xã.", "Đóng bảo hiểm xã hội tự nguyện tại bưu điện xã."),
    ("Học sinh trường THCS Lê Lợi nghỉ học.", "Học sinh trường trung học cơ sở Lê Lợi nghỉ học."),
    ("BCĐ phòng chống dịch họp khẩn.", "ban chỉ đạo phòng chống dịch họp khẩn."),
    ("Thực hiện KH của xã.", "Thực hiện kế hoạch của xã."),
    ("Theo QĐ của UBND tỉnh.", "Theo quyết định của ủy ban nhân dân tỉnh."),
    ("Xem TB dán tại nhà văn hóa.", "Xem thông báo dán tại nhà văn hóa."),
    ("CV gửi các thôn.", "công văn gửi các thôn."),
    ("Đội PCCC tình nguyện của thôn.", "Đội phòng cháy chữa cháy tình nguyện của thôn."),
    ("Mang theo CCCD khi đi bầu cử.", "Mang theo căn cước công dân khi đi bầu cử."),
    ("Phòng GD&ĐT thông báo lịch thi.", "Phòng giáo dục và đào tạo thông báo lịch thi."),
    # document numbers
    (
        "Căn cứ Kế hoạch số 124/KH-UBND của xã.",
        "Căn cứ Kế hoạch số một trăm hai mươi bốn, kế hoạch ủy ban nhân dân của xã.",
    ),
    (
        "Quyết định số 05/QĐ-UBND đã có hiệu lực.",
        "Quyết định số năm, quyết định ủy ban nhân dân đã có hiệu lực.",
    ),
    (
        "Thông báo 12/TB-BCĐ về phòng dịch.",
        "Thông báo mười hai, thông báo ban chỉ đạo về phòng dịch.",
    ),
    (
        "Công văn 245/CV-UBND gửi các thôn.",
        "Công văn hai trăm bốn mươi lăm, công văn ủy ban nhân dân gửi các thôn.",
    ),
    (
        "Nghị định 72/2015/NĐ-CP quy định rõ.",
        "Nghị định bảy mươi hai năm hai nghìn không trăm mười lăm, nghị định chính phủ"
        " quy định rõ.",
    ),
    # times and time ranges
    ("Họp lúc 7h30 sáng mai.", "Họp lúc bảy giờ ba mươi sáng mai."),
    ("Làm việc từ 7h-11h.", "Làm việc từ bảy giờ đến mười một giờ."),
    (
        "Tiêm chủng 13h30 - 16h30 chiều nay.",
        "Tiêm chủng mười ba giờ ba mươi đến mười sáu giờ ba mươi chiều nay.",
    ),
    ("Bắt đầu lúc 14:15.", "Bắt đầu lúc mười bốn giờ mười lăm."),
    ("Đúng 19h tối thứ Bảy.", "Đúng mười chín giờ tối thứ Bảy."),
    ("Cắt điện từ 8h00 đến 17h00.", "Cắt điện từ tám giờ đến mười bảy giờ."),
    # dates and date ranges
    ("Tổ chức vào ngày 15-16/12.", "Tổ chức vào ngày mười lăm đến mười sáu tháng mười hai."),
    (
        "Diễn ra 20-22/4/2026 tại sân vận động.",
        "Diễn ra ngày hai mươi đến hai mươi hai tháng tư năm hai nghìn không trăm hai mươi sáu"
        " tại sân vận động.",
    ),
    (
        "Hạn chót ngày 30/4/2026.",
        "Hạn chót ngày ba mươi tháng tư năm hai nghìn không trăm hai mươi sáu.",
    ),
    ("Trong tháng 4 này.", "Trong tháng tư này."),
    ("Từ tháng 1 năm sau.", "Từ tháng một năm sau."),
    # numbers, money, percentages
    ("Thôn có 105 hộ dân.", "Thôn có một trăm lẻ năm hộ dân."),
    ("Hỗ trợ 1.500.000 đồng mỗi hộ.", "Hỗ trợ một triệu năm trăm nghìn đồng mỗi hộ."),
    ("Giá 25.000đ/kg.", "Giá hai mươi lăm nghìn đồng một ki lô gam."),
    ("Mức thu 50.000 VNĐ.", "Mức thu năm mươi nghìn đồng."),
    ("Tỷ lệ tiêm đạt 95%.", "Tỷ lệ tiêm đạt chín mươi lăm phần trăm."),
    ("Tăng 12,5% so với cùng kỳ.", "Tăng mười hai phẩy năm phần trăm so với cùng kỳ."),
    (
        "Giảm 15%-20% chi phí.",
        "Giảm mười lăm phần trăm đến hai mươi phần trăm chi phí.",
    ),
    ("Gieo cấy 300 ha lúa.", "Gieo cấy ba trăm héc ta lúa."),
    ("Xây 50 m2 nhà văn hóa.", "Xây năm mươi mét vuông nhà văn hóa."),
    ("Quãng đường 15 km.", "Quãng đường mười lăm ki lô mét."),
    ("Năm 2025 đã qua.", "Năm hai nghìn không trăm hai mươi lăm đã qua."),
    # phone numbers
    (
        "Liên hệ SĐT 0912 345 678.",
        "Liên hệ số điện thoại không chín một hai, ba bốn năm, sáu bảy tám.",
    ),
    ("Gọi 0987654321.", "Gọi không chín tám bảy, sáu năm bốn, ba hai một."),
    (
        "Tổng đài 0243.826.1234.",
        "Tổng đài không hai bốn ba, tám hai sáu, một hai ba bốn.",
    ),
]


@pytest.fixture(scope="module")
def normaliser() -> TextNormaliser:
    return TextNormaliser()


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_reading(normaliser: TextNormaliser, text: str, expected: str) -> None:
    assert normaliser.normalise(text) == expected


def test_paragraphs_survive_and_spaces_collapse(normaliser: TextNormaliser) -> None:
    got = normaliser.normalise("  Kính  thưa bà con.\r\n\r\nUBND   xã thông báo.  ")
    assert got == "Kính thưa bà con.\nủy ban nhân dân xã thông báo."


def test_is_deterministic(normaliser: TextNormaliser) -> None:
    text = "Họp 7h30 ngày 15/12, hỗ trợ 1.500.000 đồng, SĐT 0912345678."
    assert normaliser.normalise(text) == normaliser.normalise(text)


def test_vocabulary_can_be_extended() -> None:
    base = TextNormaliser().vocabulary
    local = TextNormaliser(vocabulary=base.extended({"HTXDV": "hợp tác xã dịch vụ"}))
    assert local.normalise("HTXDV thôn Bắc") == "hợp tác xã dịch vụ thôn Bắc"


def test_basic_reader_is_a_working_fallback() -> None:
    plain = TextNormaliser(vocabulary=Vocabulary(), verbaliser=BasicVerbaliser())
    assert plain.normalise("Có 1.005 hộ, đạt 12,5%") == (
        "Có một nghìn không trăm lẻ năm hộ, đạt mười hai phẩy năm phần trăm"
    )
