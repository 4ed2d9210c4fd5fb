"""Planted invalid rows and the reason codes a validator must give them.

With ``bad_row_rate`` r > 0, every file gets about ``r x rows`` extra rows (at least one), each
with exactly one defect, inserted between the clean rows. They are copies of clean rows that
belong to no planted structure, given a key of their own that no clean row uses (so they
never collide with, or complete, a planted guarantee circle, fund cycle or control group),
and then broken in one way. Where every kind of defect applies, each appears (round robin).

Rules the ground truth assumes (the validator's contract):

* A row is checked on its own first, in this order, and rejected with the first failing
  reason: BAD_UTF8, MISSING_REQUIRED, BAD_ENUM, BAD_NUMBER, OUT_OF_RANGE, BAD_DATE, SELF_LOOP,
  DANGLING_REFERENCE. References resolve against the ids of the rows accepted from the
  referenced file (``contract.SPECS[...].refs``).
* DUPLICATE_KEY: the key of a file is ``contract.SPECS[name].key``; the first accepted row with
  a key wins and every later row with the same key is rejected, even if its other values
  differ (planted duplicates always differ in one non-key value). Rejected rows do not claim
  their key. ``identifiers`` has no duplicate rows planted: its key is the whole row.
* ``line`` is the 1-based physical line in the file: for CSV the header is line 1; for JSON
  Lines and Parquet line 1 is the first record (for Parquet: the 1-based row number).
* BAD_UTF8 is planted only in CSV, in a free-text column (``name``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import numpy as np

from loaders.contract import FileSpec, RejectReason
from synthbank.render import Table
from synthbank.util import as_i64

# The generator plants every reason the loader knows except the two a well-formed writer
# cannot produce by accident in a clean file (MALFORMED_ROW, BAD_BOOLEAN are covered by the
# loader's own tests).
PLANTED_REASONS: Final = (
    RejectReason.MISSING_REQUIRED,
    RejectReason.BAD_ENUM,
    RejectReason.BAD_NUMBER,
    RejectReason.OUT_OF_RANGE,
    RejectReason.BAD_DATE,
    RejectReason.DANGLING_REFERENCE,
    RejectReason.SELF_LOOP,
    RejectReason.DUPLICATE_KEY,
    RejectReason.BAD_UTF8,
)


# Order in which a validator checks a single row (see the module docstring).
CHECK_ORDER: Final = (
    RejectReason.BAD_UTF8,
    RejectReason.MISSING_REQUIRED,
    RejectReason.BAD_ENUM,
    RejectReason.BAD_NUMBER,
    RejectReason.OUT_OF_RANGE,
    RejectReason.BAD_DATE,
    RejectReason.SELF_LOOP,
    RejectReason.DANGLING_REFERENCE,
    RejectReason.DUPLICATE_KEY,
)

# Values outside every allow-list of the graph model (and not read as "missing" by pandas).
BAD_ENUMS: Final = ("INVALID", "ZZ", "NOT_A_KIND", "UNSPECIFIED_X")
BAD_NUMBERS: Final = ("abc", "1.2.3", "十二", "12元", "--5", "五千")
BAD_DATES: Final = ("2026-13-45", "2025-02-30", "2024-00-10", "2023-11-31", "2026-06-31")
# Invalid UTF-8 written through the surrogateescape codec: a lone 0xFF byte, or the first two
# bytes of a three-byte character with the third missing (what truncated exports look like).
BAD_BYTES: Final = ("\udcff", "\udce4\udcb8")


@dataclass(frozen=True)
class BadRow:
    """One planted row: where it goes, what it says and why it must be rejected."""

    before: int  # index of the clean row it precedes (the file's row count: at the end)
    values: tuple[str, ...]
    reason: RejectReason
    line: int  # 1-based physical line in the written file


FreshKeys = Callable[[np.random.Generator, int], dict[str, list[str]]]
Dangling = Callable[[str, int], list[str]]


def applicable_reasons(spec: FileSpec, csv: bool) -> list[RejectReason]:
    """The defects that can be planted in a file of this spec."""
    reasons = [RejectReason.MISSING_REQUIRED]
    if spec.enums:
        reasons.append(RejectReason.BAD_ENUM)
    if spec.numbers:
        reasons.append(RejectReason.BAD_NUMBER)
    if _ranged(spec):
        reasons.append(RejectReason.OUT_OF_RANGE)
    if spec.dates or spec.datetimes:
        reasons.append(RejectReason.BAD_DATE)
    if spec.refs:
        reasons.append(RejectReason.DANGLING_REFERENCE)
    if spec.loop:
        reasons.append(RejectReason.SELF_LOOP)
    if _duplicate_column(spec) is not None:
        reasons.append(RejectReason.DUPLICATE_KEY)
    if csv and spec.text:
        reasons.append(RejectReason.BAD_UTF8)
    return reasons


def _ranged(spec: FileSpec) -> list[str]:
    """Numeric columns with a range (where OUT_OF_RANGE can be planted)."""
    return [c for c, r in spec.numbers.items() if r.low is not None or r.high is not None]


def _duplicate_column(spec: FileSpec) -> str | None:
    """The non-key column a planted duplicate changes (None if every column is key)."""
    for group in (spec.text, tuple(spec.numbers), spec.dates, spec.booleans):
        for column in group:
            if column not in spec.key:
                return column
    return None


def _decimals(text: str) -> int:
    """Number of decimal places written in a number."""
    return len(text.split(".", 1)[1]) if "." in text else 0


def _changed_number(spec: FileSpec, column: str, text: str) -> str:
    """A different valid number in the same format (one unit of the last decimal away)."""
    rule = spec.numbers[column]
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(1)
    places = _decimals(text)
    unit = Decimal(1).scaleb(-places)
    for candidate in (value - unit, value + unit):
        if candidate > 0 and rule.in_range(float(candidate)):
            return f"{candidate:.{places}f}"
    return "1"


def _out_of_range(spec: FileSpec, column: str, text: str) -> str:
    """A parseable number just outside the column's range."""
    rule = spec.numbers[column]
    if rule.high is not None:
        return str(int(rule.high) + 4) if rule.integer else f"{rule.high * 1.5:.2f}"
    magnitude = text.lstrip("-") or "1"
    return f"-{magnitude}" if magnitude.strip("0.") else "-1"


def _mutate(spec: FileSpec, row: list[str], rng: np.random.Generator) -> None:
    """Change the duplicate column of a copy so that the duplicate differs from the original."""
    column = _duplicate_column(spec)
    assert column is not None
    i = spec.columns.index(column)
    text = row[i]
    if column in spec.text:
        row[i] = text + "（更新）"
    elif column in spec.numbers:
        row[i] = _changed_number(spec, column, text)
    elif column in spec.dates:
        day = date.fromisoformat(text) if text else date(2020, 1, 2)
        row[i] = (day - timedelta(days=1)).isoformat()
    else:
        row[i] = "false" if text == "true" else "true"


def _break(
    spec: FileSpec,
    row: list[str],
    reason: RejectReason,
    rng: np.random.Generator,
    dangling: Dangling,
) -> None:
    """Give a (valid, freshly keyed) row exactly one defect."""

    def pick(options: tuple[str, ...] | list[str]) -> str:
        return options[int(rng.integers(0, len(options)))]

    col = spec.columns.index
    if reason is RejectReason.MISSING_REQUIRED:
        row[col(pick(spec.required))] = ""
    elif reason is RejectReason.BAD_ENUM:
        row[col(pick(list(spec.enums)))] = pick(BAD_ENUMS)
    elif reason is RejectReason.BAD_NUMBER:
        row[col(pick(list(spec.numbers)))] = pick(BAD_NUMBERS)
    elif reason is RejectReason.OUT_OF_RANGE:
        column = pick(_ranged(spec))
        row[col(column)] = _out_of_range(spec, column, row[col(column)])
    elif reason is RejectReason.BAD_DATE:
        column = pick([*spec.dates, *spec.datetimes])
        bad = pick(BAD_DATES)
        row[col(column)] = bad + "T10:30:00" if column in spec.datetimes else bad
    elif reason is RejectReason.DANGLING_REFERENCE:
        column = pick(list(spec.refs))
        row[col(column)] = dangling(spec.refs[column], 1)[0]
    elif reason is RejectReason.SELF_LOOP:
        assert spec.loop is not None
        row[col(spec.loop[1])] = row[col(spec.loop[0])]
    elif reason is RejectReason.BAD_UTF8:
        column = pick(list(spec.text))
        text = row[col(column)] or "客户"
        row[col(column)] = text[:1] + pick(BAD_BYTES) + text[1:]
    else:  # DUPLICATE_KEY rows are made by _mutate
        raise ValueError(reason)


def _fill_optional(spec: FileSpec, row: list[str]) -> None:
    """Give empty optional date and number cells a valid value, so a defect there is visible."""
    for column in (*spec.dates, *spec.datetimes):
        i = spec.columns.index(column)
        if row[i] == "":
            row[i] = "2020-01-02" if column in spec.dates else "2020-01-02T09:00:00"
    for column in spec.numbers:
        i = spec.columns.index(column)
        if row[i] == "":
            row[i] = "1"


def plan_bad_rows(
    table: Table,
    rng: np.random.Generator,
    rate: float,
    csv: bool,
    fresh_keys: FreshKeys,
    dangling: Dangling,
) -> list[BadRow]:
    """Bad rows for one file, sorted by position, with their physical line numbers."""
    spec = table.spec
    pool = table.template_pool
    if rate <= 0 or table.n == 0 or len(pool) == 0:
        return []
    count = max(1, round(rate * table.n))
    reasons = applicable_reasons(spec, csv)
    offset = int(rng.integers(0, len(reasons)))
    assigned = [reasons[(offset + i) % len(reasons)] for i in range(count)]
    templates = as_i64(pool[rng.integers(0, len(pool), count)])
    rendered = [array.to_pylist() for array in table.render(templates)]
    rows: list[list[str]] = [list(values) for values in zip(*rendered, strict=True)]

    fresh_rows = [i for i, r in enumerate(assigned) if r is not RejectReason.DUPLICATE_KEY]
    keys = fresh_keys(rng, len(fresh_rows))
    for j, i in enumerate(fresh_rows):
        for column, values in keys.items():
            rows[i][spec.columns.index(column)] = values[j]

    before: list[int] = []
    for i, reason in enumerate(assigned):
        row = rows[i]
        if reason is RejectReason.DUPLICATE_KEY:
            _mutate(spec, row, rng)
            # After the original, so that the original is the first occurrence and wins.
            before.append(int(rng.integers(int(templates[i]) + 1, table.n + 1)))
        else:
            _fill_optional(spec, row)
            _break(spec, row, reason, rng, dangling)
            before.append(int(rng.integers(0, table.n + 1)))
    tiebreak = rng.random(count)
    order = sorted(range(count), key=lambda i: (before[i], tiebreak[i]))
    header = 1 if csv else 0
    return [
        BadRow(
            before=before[i],
            values=tuple(rows[i]),
            reason=assigned[i],
            line=before[i] + rank + header + 1,
        )
        for rank, i in enumerate(order)
    ]


def csv_line(values: tuple[str, ...]) -> bytes:
    """A planted row as one CSV line (surrogate escapes become the invalid bytes)."""
    return (",".join(values) + "\n").encode("utf-8", "surrogateescape")


def jsonl_line(columns: tuple[str, ...], values: tuple[str, ...]) -> bytes:
    """A planted row as one JSON Lines record (empty values are null, like clean rows)."""
    fields = [
        f'"{c}":' + ("null" if v == "" else json.dumps(v, ensure_ascii=False))
        for c, v in zip(columns, values, strict=True)
    ]
    return ("{" + ",".join(fields) + "}\n").encode("utf-8")


def as_record(values: tuple[str, ...]) -> list[Any]:
    """A planted row's values for Parquet (empty values are null, like clean rows)."""
    return [None if v == "" else v for v in values]
