"""Row validation against input contract v1: one clear reason per rejected row.

Checks run in a fixed order and the first failure decides the reason: the row's shape, the
``op`` column, UTF-8, required values, enums, numbers and ranges, booleans, dates, self-loops,
then duplicates. References to other files are checked afterwards, in batches, by the
pipeline (they may need the database).

Duplicates: within one file the first valid occurrence of a key wins; every later row with the
same key is rejected as DUPLICATE_KEY (the message says whether it repeated the first row
exactly), so nothing is loaded twice and nothing is dropped without a trace.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from graph.money import MoneyError, MoneyTooLargeError, parse_minor, to_decimal
from loaders.contract import ACCEPTED_ENUMS, FALSE_WORDS, LIST_SEPARATOR, TRUE_WORDS, FileSpec
from loaders.formats import guess_date_format, guess_number_format
from loaders.pii import normalise
from loaders.rejects import Reject, RejectReason
from loaders.sources import RawRow


class Op(StrEnum):
    UPSERT = "UPSERT"
    DELETE = "DELETE"


@dataclass(frozen=True)
class ValidRow:
    line: int
    op: Op
    values: dict[str, Any]  # every contract column, typed; None where empty
    raw: dict[str, Any]


class _Invalid(Exception):
    def __init__(self, column: str | None, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.reason = reason
        self.message = message


def _text(value: Any) -> str | None:
    """The raw cell as text; None for empty. JSON and Parquet give typed values."""
    if type(value) is str:  # the CSV case, by far the most common: keep it fast
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")  # what undecodable bytes become
# control characters (C0 except tab, newline, carriage return; and DEL): never a bank value,
# they truncate or corrupt what downstream systems show (a NUL-only name looks empty)
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
# one search per cell finds either; only a hit is looked at again
_SUSPECT = re.compile(f"[\udc80-\udcff{_CONTROL}]")
_CONTROL_CHARACTER = re.compile(f"[{_CONTROL}]")


def _has_bad_utf8(text: str) -> bool:
    return _SURROGATE_ESCAPES.search(text) is not None


def _control_character(column: str, text: str) -> _Invalid | None:
    """The reject for a value holding a control character (None when it holds none)."""
    found = _CONTROL_CHARACTER.search(text)
    if found is None:
        return None
    return _Invalid(
        column,
        RejectReason.CONTROL_CHARACTER,
        f"{column} holds the control character U+{ord(found.group()):04X} at position "
        f"{found.start() + 1}",
    )


class FileValidator:
    """Validates the rows of one file; remembers keys to catch duplicates."""

    def __init__(self, spec: FileSpec, *, encoding: str = "utf-8", mapped: bool = False) -> None:
        self.spec = spec
        self.encoding = encoding
        self.mapped = mapped  # a mapping file shapes the rows (its hints say so)
        # key -> (line, fingerprint of the row): enough to name the first occurrence and say
        # whether a repeat is exact, without keeping every row of a multi-million-row file
        self._seen: dict[tuple[str | None, ...], tuple[int, int]] = {}

    def validate(self, row: RawRow) -> ValidRow | Reject:
        try:
            return self._validate(row)
        except _Invalid as invalid:
            return Reject(
                self.spec.name,
                row.line,
                invalid.column,
                invalid.reason,
                invalid.message,
                row.values,
            )

    def _validate(self, row: RawRow) -> ValidRow:
        if row.problem is not None:
            raise _Invalid(None, RejectReason.MALFORMED_ROW, row.problem)
        cells = {column: _text(value) for column, value in row.values.items()}
        for column, text in cells.items():
            if text is not None and _SUSPECT.search(text) is not None:
                if _has_bad_utf8(text):
                    raise self._undecodable(column)
                control = _control_character(column, text)
                if control is not None:
                    raise control
        op_text = (cells.get("op") or "UPSERT").upper()
        if op_text not in Op.__members__:
            raise _Invalid(
                "op", RejectReason.BAD_ENUM, f"op must be UPSERT or DELETE, not {cells.get('op')!r}"
            )
        op = Op(op_text)
        spec = self.spec
        required = spec.required if op is Op.UPSERT else spec.key
        for column in required:
            if cells.get(column) is None:
                raise _Invalid(column, RejectReason.MISSING_REQUIRED, f"{column} is required")
        # Only the columns the file carries: a column left out of an incremental export must
        # leave the stored property alone, while an empty cell in a present column clears it.
        values: dict[str, Any] = {}
        for column in spec.columns:
            if column in cells:
                text = cells[column]
                values[column] = None if text is None else self._typed(column, text)
        for low, high in spec.ordered:
            both = values.get(low) is not None and values.get(high) is not None
            if both and values[low] > values[high]:
                raise _Invalid(
                    low,
                    RejectReason.OUT_OF_RANGE,
                    f"{low} {values[low]} is above {high} {values[high]}",
                )
        if spec.loop is not None:
            first, second = spec.loop
            if values.get(first) is not None and values.get(first) == values.get(second):
                raise _Invalid(
                    second,
                    RejectReason.SELF_LOOP,
                    f"{first} and {second} are both {values[first]!r}",
                )
        key = tuple(None if values.get(c) is None else str(values[c]) for c in spec.key)
        if spec.name == "identifiers" and values.get("value") is not None:
            # two spellings of one phone or e-mail are one identifier once normalised
            key = (key[0], key[1], normalise(str(values["kind"]), str(values["value"])))
        fingerprint = hash(tuple(sorted(values.items(), key=lambda item: item[0])))
        earlier = self._seen.get(key)
        if earlier is not None:
            line, first_fingerprint = earlier
            same = (
                "an exact repeat of"
                if first_fingerprint == fingerprint
                else "a different row with the key of"
            )
            raise _Invalid(
                ",".join(spec.key),
                RejectReason.DUPLICATE_KEY,
                f"{same} line {line}; the first occurrence wins",
            )
        self._seen[key] = (row.line, fingerprint)
        return ValidRow(row.line, op, values, row.values)

    def _undecodable(self, column: str) -> _Invalid:
        if self.encoding == "utf-8":
            return _Invalid(
                column,
                RejectReason.BAD_UTF8,
                f"{column} holds bytes that are not UTF-8; if the file is in another encoding, "
                "declare it in the mapping (files.<name>.encoding: gb18030)",
            )
        return _Invalid(
            column,
            RejectReason.BAD_ENCODING,
            f"{column} holds bytes that are not {self.encoding} (the file's encoding)",
        )

    def _hint(self, section: str, column: str, example: str) -> str:
        """What a mapping file could say about a value the contract does not read."""
        where = f"the mapping's {section}.{column}" if self.mapped else "a mapping file (--mapping)"
        return f"; map it in {where}, e.g. {example}"

    def _not_a_number(self, column: str, text: str, rule: Any) -> _Invalid:
        message = f"{column} {text!r} is not a number"
        guess = guess_number_format([text])
        if guess is not None:
            example = f"numbers: {{{column}: {guess.as_yaml()}}}"
            message += " in the contract's form (plain digits, '.' decimals)"
            message += self._hint("numbers", column, example)
        elif column in self.spec.numbers and not rule.money:
            domain = rule.describe()
            example = f"values: {{{column}: {{{text}: <a value in {domain}>}}}}"
            message += f" (domain {domain})" + self._hint("values", column, example)
        return _Invalid(column, RejectReason.BAD_NUMBER, message)

    def _not_a_date(self, column: str, text: str, *, with_time: bool) -> _Invalid:
        kind = "date-time" if with_time else "date"
        message = f"{column} {text!r} is not an ISO 8601 {kind}"
        guess = guess_date_format([text], with_time=with_time)
        if guess is not None:
            message += self._hint("dates", column, f"dates: {{{column}: {guess[0]!r}}}")
        return _Invalid(column, RejectReason.BAD_DATE, message)

    def _typed(self, column: str, text: str) -> Any:
        spec = self.spec
        if column in spec.enums:
            allowed = ACCEPTED_ENUMS[spec.enums[column]]
            upper = text.upper()
            if upper not in allowed:
                example = f"values: {{{column}: {{{text}: {allowed[0]}}}}}"
                raise _Invalid(
                    column,
                    RejectReason.BAD_ENUM,
                    f"{column} {text!r} is not one of {', '.join(allowed)}"
                    + self._hint("values", column, example),
                )
            return upper
        if column in spec.enum_lists:
            allowed = ACCEPTED_ENUMS[spec.enum_lists[column]]
            items = [item.strip().upper() for item in text.split(LIST_SEPARATOR)]
            if not any(items) or "" in items:
                raise _Invalid(
                    column,
                    RejectReason.BAD_ENUM,
                    f"{column} {text!r} has an empty item ({LIST_SEPARATOR!r}-separated list)",
                )
            for item in items:
                if item not in allowed:
                    raise _Invalid(
                        column,
                        RejectReason.BAD_ENUM,
                        f"{column} item {item!r} is not one of {', '.join(allowed)}",
                    )
            return tuple(dict.fromkeys(items))  # a repeated item says nothing more
        if column in spec.numbers and spec.numbers[column].money:
            rule = spec.numbers[column]
            try:
                minor = parse_minor(text)
            except MoneyTooLargeError as error:
                raise _Invalid(column, RejectReason.OUT_OF_RANGE, f"{column} {error}") from None
            except MoneyError as error:
                hinted = self._not_a_number(column, text, rule)
                if hinted.message.endswith("is not a number"):
                    raise _Invalid(column, RejectReason.BAD_NUMBER, f"{column} {error}") from None
                raise hinted from None
            if not rule.in_range(to_decimal(minor)):
                raise _Invalid(
                    column,
                    RejectReason.OUT_OF_RANGE,
                    f"{column} {text} is outside {_describe(rule)}",
                )
            return minor
        if column in spec.numbers:
            rule = spec.numbers[column]
            try:
                number = float(text)
            except ValueError:
                raise self._not_a_number(column, text, rule) from None
            if not math.isfinite(number):
                raise _Invalid(column, RejectReason.BAD_NUMBER, f"{column} {text!r} is not finite")
            if rule.integer and not number.is_integer():
                raise _Invalid(
                    column, RejectReason.BAD_NUMBER, f"{column} {text!r} is not a whole number"
                )
            if not rule.in_range(number):
                raise _Invalid(
                    column,
                    RejectReason.OUT_OF_RANGE,
                    f"{column} {text} is outside {_describe(rule)}",
                )
            return int(number) if rule.integer else number
        if column in spec.booleans:
            lowered = text.lower()
            if lowered in TRUE_WORDS:
                return True
            if lowered in FALSE_WORDS:
                return False
            raise _Invalid(column, RejectReason.BAD_BOOLEAN, f"{column} {text!r} is not true/false")
        if column in spec.dates:
            try:
                return date.fromisoformat(text[:10] if "T" in text else text)
            except ValueError:
                raise self._not_a_date(column, text, with_time=False) from None
        if column in spec.datetimes:
            try:
                instant = datetime.fromisoformat(text)
            except ValueError:
                raise self._not_a_date(column, text, with_time=True) from None
            # naive times in bank exports are UTC by the contract
            return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        return text


def _describe(rule: Any) -> str:
    low = "" if rule.low is None else (f"{'[' if rule.low_inclusive else '('}{rule.low:g}")
    high = "" if rule.high is None else f"{rule.high:g}]"
    return f"{low or '(-inf'}, {high or 'inf)'}"
