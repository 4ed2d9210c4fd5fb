"""Money as exact decimals: parsed from text, stored as integer minor units (分 for CNY).

One currency per deployment (``CRKG_CURRENCY``, ISO 4217). Only currencies with two decimal
places are supported, so one minor unit is always 1/100 of the currency unit: ``12.34``
is stored as the integer ``1234``. A float never holds an amount anywhere in crkg: exports are
parsed with :class:`decimal.Decimal`, Neo4j stores integers (``<column>_minor``), and derived
amounts (sums, decayed sums) are computed with integers or fractions and rounded half-even to
the minor unit once, at the end.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

MINOR_DIGITS: Final = 2
MINOR_PER_UNIT: Final = 10**MINOR_DIGITS
MINOR_SUFFIX: Final = "_minor"

# ISO 4217 currencies whose minor unit is not 1/100 (0, 3 or 4 decimals, or none): refused.
NOT_TWO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        # no minor unit
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
        "VND", "VUV", "XAF", "XOF", "XPF",
        # three decimals
        "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
        # four decimals
        "CLF", "UYW",
        # funds, metals and testing codes without a minor unit
        "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA",
        "XXX",
    }
)  # fmt: skip
_CURRENCY_CODE: Final = re.compile(r"^[A-Z]{3}$")
# Neo4j stores integers in 64 bits: minor units beyond this cannot be written (and an
# exponent like 1e100000000 must be refused before int() spends minutes building it).
MAX_MINOR: Final = 2**63 - 1


class MoneyError(ValueError):
    """An amount's text is not an exact decimal with at most two places."""


class MoneyTooLargeError(MoneyError):
    """An amount whose minor units do not fit the 64-bit integer Neo4j stores."""


def check_currency(code: str) -> str:
    """The ISO 4217 code in upper case, if crkg supports it (two decimal places).

    Examples
    --------
    >>> check_currency("cny")
    'CNY'
    >>> check_currency("JPY")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: currency JPY does not have 2 decimal places; crkg stores amounts in hundredths ...
    """
    upper = code.strip().upper()
    if not _CURRENCY_CODE.match(upper):
        raise ValueError(f"currency {code!r} is not an ISO 4217 code (three letters, e.g. CNY)")
    if upper in NOT_TWO_DECIMAL_CURRENCIES:
        raise ValueError(
            f"currency {upper} does not have {MINOR_DIGITS} decimal places; crkg stores amounts "
            "in hundredths of the currency unit and supports only 2-decimal currencies "
            "(CNY, USD, EUR, HKD, …)"
        )
    return upper


def parse_minor(text: str) -> int:
    """Minor units of an amount written as a decimal (``"12.5"`` -> 1250), exactly.

    Raises :class:`MoneyError` for text that is not a finite decimal or that has more than
    two decimal places (``"1.005"``): such an amount cannot be stored without rounding.

    Examples
    --------
    >>> parse_minor("14365721.54"), parse_minor("-3"), parse_minor("1e3")
    (1436572154, -300, 100000)
    >>> parse_minor("1.005")
    Traceback (most recent call last):
    ...
    graph.money.MoneyError: '1.005' has more than 2 decimal places
    >>> parse_minor("1e400")
    Traceback (most recent call last):
    ...
    graph.money.MoneyTooLargeError: '1e400' is too large to store
    """
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not finite")
    minor = value.scaleb(MINOR_DIGITS) if value.adjusted() < 30 else None
    if minor is None or abs(minor) > MAX_MINOR:
        shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text)} characters)"
        raise MoneyTooLargeError(f"{shown!r} is too large to store")
    if minor != minor.to_integral_value():
        raise MoneyError(f"{text!r} has more than {MINOR_DIGITS} decimal places")
    return int(minor)


def to_decimal(minor: int) -> Decimal:
    """The amount in currency units, exactly (1250 -> Decimal('12.50')).

    Examples
    --------
    >>> to_decimal(1436572154), to_decimal(-5)
    (Decimal('14365721.54'), Decimal('-0.05'))
    """
    return Decimal(int(minor)).scaleb(-MINOR_DIGITS)


def units_to_minor(units: Decimal | int | float | str) -> Fraction:
    """An amount in currency units (a threshold, a parameter) as exact minor units.

    A float is read through its shortest decimal text (``0.1`` is one tenth), so parameters
    written as ``100000.1`` compare as written.

    Examples
    --------
    >>> units_to_minor(100000), units_to_minor(0.1), units_to_minor("0.001")
    (Fraction(10000000, 1), Fraction(10, 1), Fraction(1, 10))
    """
    exact = Fraction(str(units)) if isinstance(units, float) else Fraction(units)
    return exact * MINOR_PER_UNIT


def round_minor(value: Fraction | Decimal | int) -> int:
    """An exact derived amount rounded half-even to the minor unit (banker's rounding).

    Examples
    --------
    >>> round_minor(Fraction(5, 2)), round_minor(Fraction(7, 2)), round_minor(Decimal("2.51"))
    (2, 4, 3)
    """
    return round(Fraction(value))
