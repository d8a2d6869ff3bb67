"""The password rule beyond length: each refusal names its rule (for a translated message)."""

from __future__ import annotations

import pytest

from controller.auth.passwords import WeakPassword, check_strength, random_password
from controller.panel.i18n import messages


@pytest.mark.parametrize(
    ("username", "password", "reason"),
    [
        ("lan", "Ab1-xyz", "short"),
        ("lan", "lan", "short"),
        ("nguyenlan", "NguyenLan", "username"),
        ("nguyenlan", "toi-la-nguyenlan-2026", "username"),
        ("lan", "Matkhau@123", "common"),
        ("lan", "12345678", "common"),
        ("lan", "PASSWORD-123", "common"),
        ("lan", "truyenthanhxa", "one_class"),
        ("lan", "2026202620262026", "one_class"),
        ("lan", "aaaa1111aaaa", "repetitive"),
    ],
)
def test_weak_passwords_are_refused_with_their_rule(
    username: str, password: str, reason: str
) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_strength(username, password)
    assert caught.value.reason == reason
    # the panel shows this rule in both languages
    assert f"password.weak.{reason}" in messages("vi")
    assert f"password.weak.{reason}" in messages("en")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("lan", "mat-khau-thu-1"),
        ("admin", "Quan-tri-2025"),
        ("admin", "loa-demo"),  # the published demo default, replaced at first login
        ("lan", "bà con họp lúc 7 giờ"),
        ("ab", "ab-cd-ef-12"),  # a 2-letter username is not searched inside the password
    ],
)
def test_reasonable_passwords_pass(username: str, password: str) -> None:
    check_strength(username, password)


def test_random_passwords_always_pass_the_rule() -> None:
    for _ in range(300):
        check_strength("admin", random_password())
