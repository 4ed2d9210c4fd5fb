"""Money: exact parsing into minor units, the currency setting, and the money module's examples."""

from __future__ import annotations

import doctest
import time
from decimal import Decimal

import pytest
from pydantic import ValidationError

from graph import money
from graph.money import (
    MAX_MINOR,
    MoneyError,
    MoneyTooLargeError,
    parse_minor,
    round_minor,
    to_decimal,
)
from graph.settings import CrkgSettings


def test_the_module_examples_run() -> None:
    assert doctest.testmod(money).failed == 0


@pytest.mark.parametrize(
    "text", ["0.01", "14365721.54", "99999999999999.99", "-0.5", "7", "  12.30 "]
)
def test_text_to_minor_units_and_back_is_exact(text: str) -> None:
    minor = parse_minor(text)
    assert type(minor) is int
    assert to_decimal(minor) == Decimal(text.strip())


@pytest.mark.parametrize("text", ["1.001", "0.005", "abc", "inf", "NaN", ""])
def test_what_cannot_be_stored_exactly_is_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_minor(text)


def test_rounding_is_half_even_once() -> None:
    from fractions import Fraction

    assert [round_minor(Fraction(n, 2)) for n in (1, 3, 5, 7)] == [0, 2, 2, 4]


def test_currency_is_one_two_decimal_iso_code() -> None:
    assert CrkgSettings().currency == "CNY"
    assert CrkgSettings(currency="usd").currency == "USD"
    with pytest.raises(ValidationError, match="only 2-decimal currencies"):
        CrkgSettings(currency="JPY")
    with pytest.raises(ValidationError, match="ISO 4217"):
        CrkgSettings(currency="yuan")


@pytest.mark.parametrize(
    "text", ["92233720368547758.08", "-1e400", "9" * 5000, "1e100000000", "1e999999999999999999"]
)
def test_amounts_beyond_64_bit_minor_units_are_refused_at_once(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(MoneyTooLargeError, match="too large to store"):
        parse_minor(text)
    assert time.perf_counter() - started < 1.0


def test_the_largest_storable_amount_is_parsed() -> None:
    assert parse_minor("92233720368547758.07") == MAX_MINOR
