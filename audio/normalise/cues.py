"""Cue words: what the surrounding words say about an ambiguous number.

Kept as data in one place so a new cue (a street word, a counting noun) is one entry, and
so the rules stay general: they ask "is the next word a counting noun?", never "is this
sentence X?". Entries are one or two words.
"""

from __future__ import annotations


def phrases(text: str) -> frozenset[str]:
    """Comma-separated phrases: "a, b c" -> {"a", "b c"}."""
    return frozenset(p.strip() for p in text.split(",") if p.strip())


DATE_BEFORE = phrases(
    "ngày, mùng, mồng, hôm, sáng, trưa, chiều, tối, đêm, từ, đến, tới, trước, sau, vào, "
    "hạn, là, nay, hết, đầu, cuối, giữa, chủ nhật, kể từ, cho đến, đến hết, hạn chót"
)
"""Words after which x/y is a day and month."""

DAY_WORDS = phrases("ngày, mùng, mồng")
"""A date right after these already has its "ngày"."""

NAMED_DATE_BEFORE = phrases(
    "đường, phố, lễ, dịp, tết, trường, cầu, quảng trường, sân vận động, công viên, "
    "đại lộ, nhân dịp, quốc khánh"
)
"""Streets, squares, schools and holidays named after a date: "đường ba tháng hai"."""

ADDRESS_BEFORE = phrases("số nhà, ngõ, ngách, hẻm, kiệt")
"""House and alley numbers: "số nhà mười hai trên năm"."""

FRACTION_AFTER = phrases(
    "số, tổng, lượng, phần, vốn, quỹ, diện tích, dân số, tổng số, sản lượng, kinh phí, "
    "thời gian, quãng đường, chiều dài, công suất, giá trị, khối lượng"
)
"""A fraction is "of" something: "một phần ba diện tích", "ba phần tư số hộ"."""

FRACTION_BEFORE = phrases(
    "khoảng, gần, hơn, chiếm, còn, bằng, mất, cả, tới, trên, dưới, trong đó, lên tới"
)

COUNT_AFTER = phrases(
    "tiêu chí, chỉ tiêu, thôn, xóm, bản, ấp, xã, phường, hộ, tổ, khu, người, học sinh, em, "
    "cháu, đơn vị, trường, lớp, phiếu, thành viên, cử tri, đại biểu, điểm, câu, nội dung, "
    "công trình, nhiệm vụ, dự án, đội, chi hội, cơ sở, gia đình, lao động, hồ sơ, xe"
)
"""Counted things: "mười bảy trên mười chín tiêu chí" (a score, not a fraction)."""

RATIO_BEFORE = phrases("tỷ lệ, tỉ lệ, tỷ số, tỉ số")

CALL_BEFORE = phrases(
    "gọi, quay, bấm, hotline, nhắn, gửi, tổng đài, đường dây, dây nóng, điện thoại, "
    "số máy, khẩn cấp, tin nhắn"
)
"""Dialled numbers follow these: "gọi một một ba", "tổng đài một không hai hai"."""

SERVICE_BEFORE = phrases(
    "cấp cứu, cứu hỏa, cứu thương, chữa cháy, công an, cảnh sát, cứu nạn, cứu hộ"
)
"""Emergency lines named by their service: "Cứu hỏa 114", "Công an 113" (when nothing
is counted after the number)."""

AFTER_A_LINE = phrases("hoặc, và, để, khi, nếu, ngay, miễn phí, trực")

CODE_BEFORE = phrases(
    "mã, cccd, cmnd, tài khoản, căn cước, định danh, mã số, bưu chính, chứng minh"
)
"""Codes are read digit by digit: "mã hồ sơ hai năm không ba một hai"."""

ROMAN_BEFORE = phrases(
    "chương, phần, mục, khóa, khoá, quý, đợt, cấp, kỳ, tập, điều, hạng, phụ lục, thế kỷ, "
    "giai đoạn, cấp độ, báo động"
)
"""Roman numerals after these are numbers: "Chương hai", "báo động ba"."""

PER_CAPITA = phrases(
    "người, hộ, khẩu, suất, lượt, em, cháu, lần, ca, xã, thôn, bình, học sinh, xã viên"
)
"""After a slash these are "per": "đồng một người" (not "trên")."""

TIME_UNITS = phrases("giờ, ngày, tuần, tháng, năm, quý, vụ, đêm, buổi, h, s, giây, phút")

PHYSICAL_UNITS = phrases(
    "tấn, tạ, yến, kg, g, mg, ha, sào, m, m2, m3, km, km2, cm, mm, ml, l, lít, kw, kwh, kv, mét, °c"
)
"""A physical quantity per something is "trên": "tấn trên héc ta", "mét khối trên giây"."""

MONEY_WORDS = phrases("đồng, đ, vnđ, vnd, nghìn, triệu, tỷ, %")
