"""Every masking function: what stays visible, that it says it is masked, empty input, and
that a masked value cannot be recovered by enumerating the values consistent with it.

The enumeration checks count, for a masked value, the raw values a reader could not tell
apart from the real one (conservatively: only structural constraints, such as valid dates and
the resident-ID checksum, are used to narrow them down) and require at least
``MIN_CANDIDATES``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from api.security.masking import (
    MASK,
    MIN_CANDIDATES,
    Masked,
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
)

MASKERS = [mask_name, mask_phone, mask_id_number, mask_email]

# Samples of every kind of value, raw. Each mask must hide something of each.
SAMPLES = [
    "张伟",
    "李小龙",
    "欧阳娜娜",
    "王",
    "买买提·艾力",
    "Q X",
    "Wei Zhang",
    "X",
    "13812340134",
    "+86 138-1234-0134",
    "010-62345678",
    "110",
    "110101199003071234",
    "11010119900307123X",
    "110101900307123",
    "E12345678",
    "91430104UKHGN38734",
    "wei.zhang@example.com",
    "a@b.cn",
    "no-domain",
]


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


@pytest.mark.parametrize("mask", MASKERS)
@pytest.mark.parametrize("raw", SAMPLES)
def test_no_mask_returns_the_raw_value_as_masked(
    mask: Callable[[str | None], Masked], raw: str
) -> None:
    masked = mask(raw)
    assert masked.masked is True
    assert masked.value is not None
    assert masked.value != raw
    assert masked.value.strip() != raw.strip()
    assert MASK in masked.value


def _random_text(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


@pytest.mark.parametrize("mask", MASKERS)
def test_random_values_never_come_back_whole(mask: Callable[[str | None], Masked]) -> None:
    rng = random.Random(20261201)
    alphabets = [string.ascii_letters + " ", string.digits + "+- ", "张王李赵欧阳伟娜 ·", "aX1@."]
    for _ in range(2_000):
        raw = _random_text(rng, rng.choice(alphabets), 1, 20)
        if not raw.strip():
            continue
        masked = mask(raw)
        assert masked.masked is True
        assert masked.value not in (raw, raw.strip()), (raw, masked)


# --- names -------------------------------------------------------------------------------------
NAMES_SHOWN = [
    ("张伟", "张**"),
    ("李小龙", "李**"),
    ("欧阳娜娜", "欧**"),
    ("诸葛亮", "诸**"),
    (" 张伟 ", "张**"),
    ("买买提·艾力", "买**"),
    ("Wei Zhang", "W**"),
    ("Anna-Lena  Schmidt", "A**"),
    ("Q X", "Q**"),
    ("王", "**"),
    ("X", "**"),
]


def test_a_masked_name_keeps_at_most_its_first_character_and_hides_its_length() -> None:
    # Every name with the same first character masks alike: the mask says nothing more, so
    # the candidates are all names starting with that character.
    same_start = ["张伟", "张小龙", "张三丰之", "张·伟", "张 wei"]
    assert {mask_name(n).value for n in same_start} == {"张**"}
    latin = ["Q X", "Quentin", "Q", "Qi Xu Yang"]
    assert len({mask_name(n).value for n in latin if len(n) > 1}) == 1
    for name in SAMPLES:
        value = mask_name(name).value
        assert value is not None
        visible = value.replace(MASK, "")
        assert len(visible) <= 1
        assert name.strip().startswith(visible)
        assert len(visible) < len(name.strip())


# --- phones ------------------------------------------------------------------------------------
PHONES_SHOWN = [
    ("13812340134", "138********"),
    ("138 1234 0134", "138********"),
    ("138-1234-0134", "138********"),
    ("+86 13812340134", "+86 138********"),
    ("+86-138-1234-0134", "+86 138********"),
    ("0086 13812340134", "+86 138********"),
    ("8613812340134", "+86 138********"),
    ("010-62345678", "********"),
    ("(0755) 8888 1234", "********"),
    ("+44 20 7946 0958", "+********"),
    ("12345", "********"),
    ("110", "********"),
]


def _phone_candidates(masked: str) -> int:
    """Digit strings consistent with a masked phone: every ``*`` is one free digit, except
    the fixed-width mask of other numbers, which stands for any number of up to 15 digits
    (its length is not shown; counting only those of at least 8 digits)."""
    body = masked.removeprefix("+86 ").removeprefix("+")
    if body == MASK * 8:
        return sum(10**n for n in range(8, 16))
    return int(10 ** body.count(MASK))


@pytest.mark.parametrize(
    "phone", ["13812340134", "+86 19901862022", "010-62345678", "110", "+44 20 7946 0958"]
)
def test_a_masked_phone_has_enough_candidates(phone: str) -> None:
    masked = mask_phone(phone).value
    assert masked is not None
    assert _phone_candidates(masked) >= MIN_CANDIDATES


def test_masked_phones_do_not_show_the_last_digits() -> None:
    masked = mask_phone("13812340134").value
    assert masked is not None
    assert "0134" not in masked
    assert "1234" not in masked


# --- resident ids and other document numbers ---------------------------------------------------
ID_NUMBERS_SHOWN = [
    ("110101199003071234", "11" + "*" * 16),
    ("11010119900307123x", "11" + "*" * 16),
    (" 110101199003071234 ", "11" + "*" * 16),
    ("110101900307123", "11" + "*" * 13),  # 15-digit first-generation ID
    ("E12345678", "********"),
    ("91430104UKHGN38734", "********"),
    ("12", "********"),
]


_CHECK_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK_CHARS = "10X98765432"
# Fewest county-level region codes under one province prefix (Shanghai and Tianjin: 16
# districts); a lower bound for the region part that a kept province prefix leaves hidden.
FEWEST_REGIONS_PER_PROVINCE = 16


def _check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _CHECK_WEIGHTS, strict=True)) % 11]


def _resident_id_candidates(masked: str, *, today: date) -> int:
    """A lower bound on the 18-character resident IDs consistent with ``masked``.

    Birth dates: every real date of the last 100 years whose digits agree with the visible
    ones; sequence digits: every digit where hidden; region: the visible digits pinned, a
    hidden county part counted as ``FEWEST_REGIONS_PER_PROVINCE`` codes; a visible check
    character keeps only the IDs whose checksum gives it (counted exactly over the dates
    and sequences, for a region of the visible digits and zeros).
    """
    assert len(masked) == 18

    def fits(position: int, char: str) -> bool:
        return masked[position] == MASK or masked[position] == char

    region_hidden = sum(1 for c in masked[:6] if c == MASK)
    regions = FEWEST_REGIONS_PER_PROVINCE if region_hidden >= 4 else 1
    region = "".join("0" if c == MASK else c for c in masked[:6])
    day, first_day = today, today - timedelta(days=36_525)
    dates = []
    while day > first_day:
        text = day.strftime("%Y%m%d")
        if all(fits(6 + i, ch) for i, ch in enumerate(text)):
            dates.append(text)
        day -= timedelta(days=1)
    sequences = [
        f"{n:03d}" for n in range(1000) if all(fits(14 + i, ch) for i, ch in enumerate(f"{n:03d}"))
    ]
    if masked[17] == MASK:
        return regions * len(dates) * len(sequences)
    # the check character is visible: it divides the candidates by about 11
    matching = sum(1 for d in dates for s in sequences if _check_char(region + d + s) == masked[17])
    return regions * matching


@pytest.mark.parametrize("id_number", ["110101199003071234", "11010119900307123X"])
def test_a_masked_resident_id_has_enough_candidates_even_with_the_checksum(
    id_number: str,
) -> None:
    masked = mask_id_number(id_number).value
    assert masked is not None
    candidates = _resident_id_candidates(masked, today=date(2026, 12, 1))
    assert candidates >= MIN_CANDIDATES, candidates


def test_the_old_resident_id_mask_was_enumerable() -> None:
    # region and the last four visible (the mask this replaced): a few thousand candidates
    old = "110101" + MASK * 8 + "1234"
    assert _resident_id_candidates(old, today=date(2026, 12, 1)) < 10_000


# --- e-mails -----------------------------------------------------------------------------------
EMAILS_SHOWN = [
    ("wei.zhang@example.com", "w***@example.com"),
    ("W@bank.cn", "W***@bank.cn"),
    ("odd@name@example.com", "o***@example.com"),
    ("@example.com", "***@example.com"),
    ("no-domain", "n***"),
]


def test_a_masked_email_hides_the_length_of_its_local_part() -> None:
    # the local part's length is not shown, so its candidates are every local part that
    # starts with the visible character (37^6 > 10^8 of seven characters alone)
    assert len({mask_email(f"w{'x' * n}@example.com").value for n in range(10)}) == 1


# --- what each mask shows ----------------------------------------------------------------------
SHOWN = [
    pytest.param(mask, raw, shown, id=f"{mask.__name__}-{raw}")
    for mask, cases in (
        (mask_name, NAMES_SHOWN),
        (mask_phone, PHONES_SHOWN),
        (mask_id_number, ID_NUMBERS_SHOWN),
        (mask_email, EMAILS_SHOWN),
    )
    for raw, shown in cases
]


@pytest.mark.parametrize(("mask", "raw", "shown"), SHOWN)
def test_each_mask_shows_what_it_should(
    mask: Callable[[str | None], Masked], raw: str, shown: str
) -> None:
    assert mask(raw) == Masked(shown, masked=True)
