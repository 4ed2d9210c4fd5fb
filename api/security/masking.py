"""Masking that says it is masked, and that enumeration cannot undo.

A masked value travels with ``masked=True`` and keeps at most a short, low-information
prefix, chosen so that the raw values consistent with it number at least
:data:`MIN_CANDIDATES` (10^8) where the kind of value allows it:

=================  =====================================================  =====================
value              what the mask keeps                                    candidates left
=================  =====================================================  =====================
name               the first character; the rest, and the length, hidden  every name starting
                   (``张**``); a one-character name keeps nothing           with that character
mainland mobile    ``+86`` if written, the 3-digit carrier prefix         10^8 (8 free digits)
                   (``138********``)
other phone        a leading ``+`` / ``+86``; digits and length hidden    every number of 8-15
                   (``********``)                                         digits (> 10^15)
resident ID        the 2-digit province; birth date, sequence, check      ≥ 16 counties × 36,525
(18 or 15 chars)   character hidden (``11****************``)              dates × 1,000 ≈ 5.8·10^8
other ID number    nothing; length hidden (``********``)                  every document number
e-mail             the local part's first character and the domain        every local part with
                   (``w***@example.com``); the local length hidden        that first character
=================  =====================================================  =====================

A mask never returns the raw value: the kept part is always shorter than the value.
``None`` and ``""`` pass through the mask functions unmasked (there is nothing to hide), but
a caller who may not read a field must not learn that it is empty either: for them
:func:`mask_absent` stands in, the form of a value that keeps nothing (``**`` for a name,
``********`` otherwise), ``masked=True``.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

MASK = "*"
# The fewest raw values a masked value must leave possible (where the kind of value has
# that many at all): a guess-and-check attack needs about this many tries.
MIN_CANDIDATES = 10**8
# Fixed-width masks: how long the hidden part is would narrow the candidates.
_NAME_HIDDEN = MASK * 2
_LOCAL_PART_HIDDEN = MASK * 3
_ALL_HIDDEN = MASK * 8
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_MAINLAND_PREFIX = re.compile(r"^(?:\+86|0086|86(?=1\d{10}$))")
# 18 characters (region, birth date, sequence, check character) or the 15-digit first
# generation (region, 2-digit year, sequence, no check character)
_RESIDENT_ID = re.compile(r"\d{17}[\dX]|\d{15}")
_PROVINCE_DIGITS = 2


@dataclass(frozen=True)
class Masked:
    """A value as the caller may see it; ``masked`` says whether part of it was hidden."""

    value: str | None
    masked: bool

    @classmethod
    def unmasked(cls, value: str | None) -> Masked:
        """The value as it is, for a caller allowed to see it."""
        return cls(value, masked=False)


def mask_absent(field: str) -> Masked:
    """What a caller who may not read ``field`` sees when nothing is on file: the mask of a
    value that keeps nothing, so the answer does not tell an empty field from a hidden one.

    Examples
    --------
    >>> mask_absent("name")
    Masked(value='**', masked=True)
    >>> mask_absent("phone")
    Masked(value='********', masked=True)
    """
    return Masked(_NAME_HIDDEN if field == "name" else _ALL_HIDDEN, masked=True)


def _on_file(mask: Callable[[str], Masked]) -> Callable[[str | None], Masked]:
    """``mask`` for a value on file; ``None`` and blank text pass through unmasked (there is
    nothing to hide; callers who may not read the field get :func:`mask_absent`)."""

    @functools.wraps(mask)
    def masked(value: str | None) -> Masked:
        if not value or not value.strip():
            return Masked.unmasked(value)
        return mask(value)

    return masked


@_on_file
def mask_name(name: str) -> Masked:
    """Keep the first character (a Chinese surname's first character, a Latin initial).

    The rest is always shown as ``**``, whatever its length and however many words it has,
    so ``Q X`` and ``Quentin`` look alike; a one-character name keeps nothing.

    Parameters
    ----------
    name : str or None
        A person's or company's name as written in the export.

    Returns
    -------
    Masked
        The masked name; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_name("张伟")
    Masked(value='张**', masked=True)
    >>> mask_name("欧阳娜娜").value
    '欧**'
    >>> mask_name("Q X").value
    'Q**'
    >>> mask_name("王")
    Masked(value='**', masked=True)
    >>> mask_name(None)
    Masked(value=None, masked=False)
    """
    name = name.strip()
    kept = name[0] if len(name) > 1 else ""
    return Masked(kept + _NAME_HIDDEN, masked=True)


@_on_file
def mask_phone(phone: str) -> Masked:
    """Keep a mainland mobile's carrier prefix (first 3 digits); of other numbers nothing.

    Spaces, dashes and brackets are ignored. A ``+86``/``0086`` country code (or a bare
    ``86`` before a mobile number) stays visible as ``+86``; any other leading ``+`` stays,
    the digits after it are hidden with the rest. The 8 digits after a carrier prefix leave
    10^8 candidates; other numbers are shown as a fixed ``********`` so that not even their
    length is known.

    Parameters
    ----------
    phone : str or None
        A phone number as written in the export.

    Returns
    -------
    Masked
        The masked number; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_phone("13812340134")
    Masked(value='138********', masked=True)
    >>> mask_phone("+86 138-1234-0134").value
    '+86 138********'
    >>> mask_phone("010-62345678").value
    '********'
    >>> mask_phone("+44 20 7946 0958").value
    '+********'
    >>> mask_phone("")
    Masked(value='', masked=False)
    """
    compact = re.sub(r"[^\d+]", "", phone)
    country = ""
    if prefix := _MAINLAND_PREFIX.match(compact):
        country, compact = "+86 ", compact[prefix.end() :]
    elif compact.startswith("+"):
        country, compact = "+", compact[1:]
    digits = compact.replace("+", "")
    if _MAINLAND_MOBILE.fullmatch(digits):
        return Masked(f"{country}{digits[:3]}{MASK * 8}", masked=True)
    return Masked(country + _ALL_HIDDEN, masked=True)


@_on_file
def mask_id_number(id_number: str) -> Masked:
    """A resident ID keeps its 2-digit province; any other document number nothing.

    The county part of the region, the birth date, the sequence number and the check
    character stay hidden: even a province with few counties leaves 16 × 36,525 (birth
    dates of a century) × 1,000 (sequences) ≈ 5.8 × 10^8 candidates, and the check
    character, being hidden, does not narrow them. Other numbers (passports, company
    credit codes) are a fixed ``********``.

    Parameters
    ----------
    id_number : str or None
        A national ID, passport or other document number.

    Returns
    -------
    Masked
        The masked number; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_id_number("11010119900307123X")
    Masked(value='11****************', masked=True)
    >>> mask_id_number("E12345678").value
    '********'
    """
    compact = id_number.strip().upper()
    if _RESIDENT_ID.fullmatch(compact):
        hidden = len(compact) - _PROVINCE_DIGITS
        return Masked(compact[:_PROVINCE_DIGITS] + MASK * hidden, masked=True)
    return Masked(_ALL_HIDDEN, masked=True)


@_on_file
def mask_email(email: str) -> Masked:
    """Keep the first character of the local part and the whole domain.

    The local part's length is hidden too (always ``***``): it is often the person's name.

    Parameters
    ----------
    email : str or None
        An e-mail address.

    Returns
    -------
    Masked
        The masked address; unmasked for ``None`` and ``""``.

    Examples
    --------
    >>> mask_email("wei.zhang@example.com")
    Masked(value='w***@example.com', masked=True)
    >>> mask_email("@example.com").value
    '***@example.com'
    >>> mask_email("not-an-address").value
    'n***'
    """
    local, at, domain = email.strip().rpartition("@")
    if not at:  # no domain: all of it is the identifying part
        local, domain = domain, ""
    return Masked(f"{local[:1]}{_LOCAL_PART_HIDDEN}{at}{domain}", masked=True)


# Bands of a masked amount, in currency units: 0, 10k, 50k, 100k, 500k, 1M, 5M, 6M, 10M, 50M,
# 100M. The default tier thresholds (segmentation: 100k, 1M, 6M) are edges, so a customer's
# tier, which every role sees, says nothing about their AUM that its band does not.
AMOUNT_BAND_EDGES: tuple[int, ...] = (
    0, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 6_000_000, 10_000_000,
    50_000_000, 100_000_000,
)  # fmt: skip


def amount_band(units: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """The band ``[low, high)`` of ``AMOUNT_BAND_EDGES`` an amount lies in (None: open-ended).

    A negative amount (an overdrawn balance) gets the band of its size, negated:
    ``(-high, -low]``, written low first.

    Examples
    --------
    >>> amount_band(Decimal("14365721.54"))
    (Decimal('10000000'), Decimal('50000000'))
    >>> amount_band(Decimal("0")), amount_band(Decimal("250000000"))
    ((Decimal('0'), Decimal('10000')), (Decimal('100000000'), None))
    >>> amount_band(Decimal("-20000")), amount_band(Decimal("-250000000"))
    ((Decimal('-50000'), Decimal('-10000')), (None, Decimal('-100000000')))
    """
    size = abs(units)
    index = bisect_right(AMOUNT_BAND_EDGES, size) - 1
    low = Decimal(AMOUNT_BAND_EDGES[index])
    high = Decimal(AMOUNT_BAND_EDGES[index + 1]) if index + 1 < len(AMOUNT_BAND_EDGES) else None
    if units >= 0:
        return low, high
    return (None if high is None else -high), -low
