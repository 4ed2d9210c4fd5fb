"""Turning integer-coded columns into Arrow string arrays, a slice of rows at a time.

Generation keeps every column as numbers (indices, day numbers, cents); text is produced only
when a chunk is written, with Arrow's vectorised kernels (``take`` from small dictionaries of
pre-formatted strings, integer casts, element-wise joins). That keeps 1M-customer banks in a
few hundred MB and makes rendering cost about a second per million rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.contract import FileSpec
from synthbank.util import I64, Bool, Str, as_i64

Index = slice | I64
Renderer = Callable[[Index], Any]  # returns a pyarrow StringArray with one value per row

DATE_LO: Final = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_DATE_HI: Final = int(np.datetime64("2041-01-01", "D").astype(np.int64))
_DATES: Final = pa.array(np.arange(DATE_LO, _DATE_HI).astype("datetime64[D]").astype(str))
_TWO: Final = np.char.zfill(np.arange(100).astype(str), 2)
_THREE: Final = pa.array(np.char.zfill(np.arange(1000).astype(str), 3))
_SECONDS: Final = np.arange(86_400)
_TIMES: Final = pa.array(
    np.strings.add(
        np.strings.add(np.strings.add(_TWO[_SECONDS // 3600], ":"), _TWO[_SECONDS // 60 % 60]),
        np.strings.add(":", _TWO[_SECONDS % 60]),
    )
)
_PA_TWO: Final = pa.array(_TWO)
_HEX: Final = np.array(list("0123456789ABCDEF"))
_NIBBLES: Final = np.arange(65_536)
_HEX4: Final = pa.array(
    np.strings.add(
        np.strings.add(_HEX[_NIBBLES >> 12], _HEX[(_NIBBLES >> 8) & 15]),
        np.strings.add(_HEX[(_NIBBLES >> 4) & 15], _HEX[_NIBBLES & 15]),
    )
)
_BOOLS: Final = pa.array(["false", "true"])


def arrow_strings(values: object) -> Any:
    """A single (non-chunked) Arrow string array of the given values."""
    array = pa.array(values, type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def length(ix: Index, n: int) -> int:
    """Number of rows an index selects from a column of ``n`` rows."""
    if isinstance(ix, slice):
        return len(range(*ix.indices(n)))
    return len(ix)


def take(array: Any, ix: Index) -> Any:
    """Rows of an Arrow array: zero-copy for slices, a gather for index arrays."""
    if isinstance(ix, slice):
        start, stop, _ = ix.indices(len(array))
        return array.slice(start, stop - start)
    return array.take(pa.array(ix, type=pa.int64()))


def blank_where(mask: Bool, inner: Renderer) -> Renderer:
    """Render the empty string where ``mask`` is set (an absent optional value)."""

    def render(ix: Index) -> Any:
        return pc.if_else(pa.array(mask[ix]), "", inner(ix))

    return render


def lookup(dictionary: Any, codes: I64) -> Renderer:
    """Values from a dictionary of strings by code; a negative code renders as empty."""
    table = pa.concat_arrays([arrow_strings(dictionary), pa.array([""])])
    safe = as_i64(np.where(codes < 0, len(table) - 1, codes))
    return lambda ix: table.take(pa.array(safe[ix], type=pa.int64()))


def strings(values: Str) -> Renderer:
    """A column that already is text."""
    array = arrow_strings(values)
    return lambda ix: take(array, ix)


def integers(values: I64) -> Renderer:
    """Decimal integers."""
    return lambda ix: pc.cast(pa.array(values[ix], type=pa.int64()), pa.string())


def _fixed_point(values: I64, scale: int, fractions: pa.Array) -> Renderer:
    """Non-negative numbers given in 1/``scale`` units, rendered ``whole.fraction`` with the
    fraction's digits from ``fractions`` (every remainder, zero-padded)."""

    def render(ix: Index) -> Any:
        part = values[ix]
        whole = pc.cast(pa.array(part // scale, type=pa.int64()), pa.string())
        return pc.binary_join_element_wise(whole, fractions.take(pa.array(part % scale)), ".")

    return render


def cents(values: I64) -> Renderer:
    """Non-negative amounts given in hundredths, rendered with two decimals (``1234.50``)."""
    return _fixed_point(values, 100, _PA_TWO)


def thousandths(values: I64) -> Renderer:
    """Non-negative numbers given in thousandths, rendered with three decimals (``0.125``)."""
    return _fixed_point(values, 1000, _THREE)


def dates(days: I64) -> Renderer:
    """ISO dates (``2026-06-30``) of day numbers."""
    return lambda ix: _DATES.take(pa.array(days[ix] - DATE_LO, type=pa.int64()))


def datetimes(days: I64, seconds: I64) -> Renderer:
    """ISO local date-times (``2026-06-30T14:05:09``) of day numbers and seconds of the day."""

    def render(ix: Index) -> Any:
        day = _DATES.take(pa.array(days[ix] - DATE_LO, type=pa.int64()))
        return pc.binary_join_element_wise(day, _TIMES.take(pa.array(seconds[ix])), "T")

    return render


def booleans(values: Bool) -> Renderer:
    """``true`` / ``false``."""
    codes = values.astype(np.int64)
    return lambda ix: _BOOLS.take(pa.array(codes[ix], type=pa.int64()))


def hex16(values: I64) -> Renderer:
    """Non-negative 63-bit integers as 16 upper-case hex digits (device identifiers)."""

    def render(ix: Index) -> Any:
        part = values[ix]
        quarters = [_HEX4.take(pa.array((part >> shift) & 0xFFFF)) for shift in (48, 32, 16, 0)]
        return pc.binary_join_element_wise(*quarters, "")

    return render


def constant(value: str, n: int) -> Renderer:
    """The same string on every row."""
    return lambda ix: pa.array(np.full(length(ix, n), value), type=pa.string())


def make_ids(prefix: str, count: int, width: int) -> Any:
    """Arrow array of ids ``prefix`` + zero-padded 1-based number (``C0000001``)."""
    numbers = pc.cast(pa.array(np.arange(1, count + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def id_label(prefix: str, number: int, width: int) -> str:
    """One id in the same format as :func:`make_ids` (1-based number)."""
    return f"{prefix}{number:0{width}d}"


def id_width(count: int, minimum: int) -> int:
    """Digits of an id family: wide enough for ``count`` rows plus fresh and dangling ids."""
    return max(minimum, len(str(2 * count + 1000)))


@dataclass(frozen=True)
class Table:
    """One contract file before writing: renderers per column and rows that may seed bad rows."""

    spec: FileSpec
    n: int
    columns: dict[str, Renderer]
    # Rows outside every planted structure: only these are copied into planted bad rows, so
    # that even a lenient loader cannot disturb the ground truth through them.
    template_pool: I64

    def render(self, ix: Index) -> list[Any]:
        """The Arrow string arrays of all columns for the selected rows, in contract order."""
        return [self.columns[name](ix) for name in self.spec.columns]
