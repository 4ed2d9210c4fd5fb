"""Every masking function: what stays visible, that it says it is masked, empty input."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from api.security.masking import Masked, mask_email, mask_id_number, mask_name, mask_phone

MASKERS = [mask_name, mask_phone, mask_id_number, mask_email]


@pytest.mark.parametrize("mask", MASKERS)
@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_to_hide_is_not_masked(
    mask: Callable[[str | None], Masked], empty: str | None
) -> None:
    assert mask(empty) == Masked(empty, masked=False)


@pytest.mark.parametrize("mask", MASKERS)
def test_a_masked_value_says_so(mask: Callable[[str | None], Masked]) -> None:
    assert mask("13812340134").masked is True


def test_unmasked_says_it_is_not_masked() -> None:
    assert Masked.unmasked("张伟") == Masked("张伟", masked=False)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张伟", "张*"),
        ("李小龙", "李**"),
        ("欧阳娜娜", "欧阳**"),
        ("诸葛亮", "诸葛*"),
        ("司马懿", "司马*"),
        ("上官婉儿", "上官**"),
        ("欧阳", "欧*"),  # too short to be surname + given name: one character kept
        ("王", "*"),
        (" 张伟 ", "张*"),
        ("买买提·艾力", "买**·**"),
        ("Wei Zhang", "W** Z****"),
        ("Anna-Lena  Schmidt", "A******** S******"),
        ("X", "X"),
    ],
)
def test_mask_name(name: str, shown: str) -> None:
    assert mask_name(name) == Masked(shown, masked=True)


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("13812340134", "138****0134"),
        ("138 1234 0134", "138****0134"),
        ("138-1234-0134", "138****0134"),
        ("+86 13812340134", "+86 138****0134"),
        ("+86-138-1234-0134", "+86 138****0134"),
        ("0086 13812340134", "+86 138****0134"),
        ("8613812340134", "+86 138****0134"),
        ("010-62345678", "*******5678"),
        ("(0755) 8888 1234", "********1234"),
        ("+44 20 7946 0958", "+********0958"),
        ("12345", "*2345"),
        ("1234", "****"),
    ],
)
def test_mask_phone(phone: str, shown: str) -> None:
    assert mask_phone(phone) == Masked(shown, masked=True)


def test_mask_phone_keeps_the_last_four_digits_visible_only() -> None:
    masked = mask_phone("13812340134").value
    assert masked is not None
    assert "1234" not in masked


@pytest.mark.parametrize(
    ("id_number", "shown"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010119900307123x", "110101********123X"),
        (" 110101199003071234 ", "110101********1234"),
        ("E12345678", "*****5678"),
        ("110101900307123", "***********7123"),  # 15-digit first-generation ID: last 4 only
        ("12", "**"),
    ],
)
def test_mask_id_number(id_number: str, shown: str) -> None:
    assert mask_id_number(id_number) == Masked(shown, masked=True)


@pytest.mark.parametrize(
    ("email", "shown"),
    [
        ("wei.zhang@example.com", "w***@example.com"),
        ("W@bank.cn", "W***@bank.cn"),
        ("odd@name@example.com", "o***@example.com"),
        ("@example.com", "***@example.com"),
        ("no-domain", "n***"),
    ],
)
def test_mask_email(email: str, shown: str) -> None:
    assert mask_email(email) == Masked(shown, masked=True)
