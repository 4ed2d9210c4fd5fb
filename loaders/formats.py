"""Number and date formats of source systems: parse a source value into the contract's form
(plain decimals, ISO 8601), and guess a format from sample values (for the hints of rejects
and for ``crkg mapping propose``).

Examples
--------
>>> NumberFormat(thousands=",", currency=("¥",)).parse("¥1,200.50")
'1200.50'
>>> NumberFormat(units={"万": 10000}).parse("1.5万")
'15000.0'
>>> DateFormat("%Y/%m/%d").parse("2019/3/1")
'2019-03-01'
>>> DateFormat("excel").parse("43525")
'2019-03-01'
>>> guess_date_format(["2019/03/01", "2020/12/31"])
('%Y/%m/%d', 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

EXCEL: Final = "excel"
_EXCEL_EPOCH: Final = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 (Lotus's leap-year bug)
_EXCEL_RANGE: Final = (1.0, 2958465.0)  # 1900-01-01 .. 9999-12-31
_PLAIN: Final = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
# Candidate date formats, most common in Chinese bank exports first.
DATE_PATTERNS: Final[tuple[str, ...]] = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日", "%d/%m/%Y", "%m/%d/%Y",
)  # fmt: skip
DATETIME_PATTERNS: Final[tuple[str, ...]] = (
    "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S",
    "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M",
)  # fmt: skip
CURRENCY_SIGNS: Final[tuple[str, ...]] = ("¥", "￥", "CNY", "RMB", "元", "$", "US$", "USD", "HK$")
UNIT_WORDS: Final[dict[str, int]] = {"万": 10_000, "亿": 100_000_000}


class FormatError(ValueError):
    """A value that does not follow the declared format (the message says how)."""


@dataclass(frozen=True)
class NumberFormat:
    """How a source system writes numbers: thousands separator, decimal mark, currency signs
    to strip, unit suffixes (``万`` = 10 000) and a scale for a whole column (in 万元: 10000)."""

    thousands: str = ""
    decimal: str = "."
    currency: tuple[str, ...] = ()
    units: dict[str, int] = field(default_factory=dict)
    scale: Decimal = Decimal(1)

    def parse(self, text: str) -> str:
        """The value as a plain decimal the contract reads."""
        value = text.strip()
        for sign in sorted(self.currency, key=len, reverse=True):
            value = value.replace(sign, "")
        value = value.strip()
        multiplier = self.scale
        for unit, times in self.units.items():
            if value.endswith(unit):
                value, multiplier = value[: -len(unit)].strip(), multiplier * times
                break
        if self.thousands and self.thousands in value:
            body = value.lstrip("+-")
            whole = body.split(self.decimal, 1)[0]
            groups = whole.split(self.thousands)
            if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
                raise FormatError(f"{text!r} has misplaced {self.thousands!r} separators")
            value = value.replace(self.thousands, "")
        if self.decimal != ".":
            if "." in value:
                raise FormatError(f"{text!r} has a '.' where the decimal mark is {self.decimal!r}")
            value = value.replace(self.decimal, ".")
        if not _PLAIN.fullmatch(value):
            raise FormatError(f"{text!r} is not a number in the declared format ({self})")
        try:
            number = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes it
            raise FormatError(f"{text!r} is not a number") from None
        return format(number * multiplier if multiplier != 1 else number, "f")

    def _declared(self) -> list[str]:
        """The settings that differ from a plain number's, in the order both renderings use."""
        differ = {
            "thousands": bool(self.thousands),
            "decimal": self.decimal != ".",
            "currency": bool(self.currency),
            "units": bool(self.units),
            "scale": self.scale != 1,
        }
        return [name for name, differs in differ.items() if differs]

    def as_yaml(self) -> str:
        """The format as a mapping file writes it (flow style)."""
        value = {
            "thousands": f'"{self.thousands}"',
            "decimal": f'"{self.decimal}"',
            "currency": f"[{', '.join(self.currency)}]",
            "units": f"{{{', '.join(f'{u}: {n}' for u, n in self.units.items())}}}",
            "scale": str(self.scale),
        }
        return "{" + ", ".join(f"{name}: {value[name]}" for name in self._declared()) + "}"

    def __str__(self) -> str:
        value = {
            "thousands": repr(self.thousands),
            "decimal": repr(self.decimal),
            "currency": ", ".join(self.currency),
            "units": ", ".join(self.units),
            "scale": str(self.scale),
        }
        return "; ".join(f"{name} {value[name]}" for name in self._declared()) or "plain"


@dataclass(frozen=True)
class DateFormat:
    """How a source system writes dates: a ``strptime`` pattern or ``excel`` serial days."""

    pattern: str

    def parse(self, text: str, *, with_time: bool = False) -> str:
        """The value in ISO 8601 (a date, or a date-time for ``with_time`` columns)."""
        value = text.strip()
        if self.pattern == EXCEL:
            try:
                serial = float(value)
            except ValueError:
                raise FormatError(f"{text!r} is not an Excel serial date (a number)") from None
            if not _EXCEL_RANGE[0] <= serial <= _EXCEL_RANGE[1]:
                raise FormatError(f"{text!r} is outside Excel's serial dates")
            instant = _EXCEL_EPOCH + timedelta(days=serial)
        else:
            try:
                instant = datetime.strptime(value, self.pattern)
            except ValueError:
                raise FormatError(f"{text!r} does not match {self.pattern!r}") from None
        if with_time:
            return instant.isoformat()
        return instant.date().isoformat()


def _parses(pattern: str, text: str) -> bool:
    try:
        DateFormat(pattern).parse(text)
    except FormatError:
        return False
    return True


def guess_date_format(
    values: Iterable[str], *, with_time: bool = False
) -> tuple[str, float] | None:
    """The format most sample values follow, with the share that do (None: none fits).

    ISO 8601 is returned as ``%Y-%m-%d`` when it fits: the contract reads it unmapped.
    """
    sample = [v.strip() for v in values if v and v.strip()]
    if not sample:
        return None
    if all(_is_iso(v) for v in sample):
        return ("%Y-%m-%dT%H:%M:%S" if with_time else "%Y-%m-%d"), 1.0
    patterns = (*DATETIME_PATTERNS, *DATE_PATTERNS) if with_time else DATE_PATTERNS
    best: tuple[str, float] | None = None
    for pattern in (*patterns, EXCEL):
        share = sum(_parses(pattern, v) for v in sample) / len(sample)
        if share and (best is None or share > best[1]):
            best = (pattern, share)
    if best is not None and best[0] == EXCEL and not all(v.isdigit() for v in sample):
        return None  # decimals that happen to lie in Excel's range are not dates
    return best


def _is_iso(text: str) -> bool:
    try:
        date.fromisoformat(text[:10] if "T" in text else text)
    except ValueError:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
    return True


def guess_number_format(values: Iterable[str]) -> NumberFormat | None:
    """The number format that reads every sample value (None: some value is not a number,
    or they are plain numbers the contract reads unmapped)."""
    sample = [v.strip() for v in values if v and v.strip()]
    if not sample or all(_PLAIN.fullmatch(v) for v in sample):
        return None
    currency = tuple(sign for sign in CURRENCY_SIGNS if any(sign in v for v in sample))
    currency = tuple(s for s in currency if not any(s in o and s != o for o in currency))
    units = {u: times for u, times in UNIT_WORDS.items() if any(v.endswith(u) for v in sample)}
    for thousands, decimal in ((",", "."), ("", "."), (".", ","), (" ", ","), ("'", ".")):
        guess = NumberFormat(thousands=thousands, decimal=decimal, currency=currency, units=units)
        try:
            for value in sample:
                guess.parse(value)
        except FormatError:
            continue
        return guess
    return None
