"""Writing tables as CSV, JSON Lines or Parquet, with planted bad rows spliced in.

All three formats carry the same text: every value is a string, exactly as in the CSV
(decimals with fixed places, ISO dates, ``true``/``false``). CSV has a header row and no
quoting (no generated value contains a comma, quote or line break); an empty field is a
missing value. JSON Lines has one object per line with the contract's keys in order; missing
values are ``null``. Parquet has one ``string`` column per contract column; missing values are
null. Rows are written in chunks: a chunk is rendered by Arrow into one buffer of lines, and
the bytes of planted rows are written between slices of that buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synthbank.bad_rows import BadRow, as_record, csv_line, jsonl_line
from synthbank.render import Table

FileFormat = Literal["csv", "jsonl", "parquet"]
Progress = Callable[[str, int, int], None]
CHUNK_ROWS: Final = 250_000
EXTENSION: Final[dict[str, str]] = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}


def _lines(table: Table, arrays: list[Any], file_format: FileFormat) -> Any:
    """One text line per row (each ending in a newline) as an Arrow string array."""
    if file_format == "csv":
        line = pc.binary_join_element_wise(*arrays, ",")
        return pc.binary_join_element_wise(line, "\n", "")
    pieces = []
    for column, array in zip(table.spec.columns, arrays, strict=True):
        quoted = pc.binary_join_element_wise(f'"{column}":"', array, '"', "")
        pieces.append(pc.if_else(pc.equal(array, ""), f'"{column}":null', quoted))
    body = pc.binary_join_element_wise(*pieces, ",")
    return pc.binary_join_element_wise("{", body, "}\n", "")


def line_bytes(lines: Any) -> tuple[memoryview, np.ndarray]:
    """The bytes of a string array and the offset of each value (n + 1 entries)."""
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    if lines.type == pa.large_string():
        offset_type: Any = np.int64
    else:
        offset_type = np.int32
    buffers = lines.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
    return data, offsets.astype(np.int64)


def _nulls(array: Any) -> Any:
    """Empty strings as nulls (how Parquet marks a missing value)."""
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def write_table(
    path: Path,
    table: Table,
    bad: Sequence[BadRow],
    file_format: FileFormat,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Write one file; returns the number of data rows written (clean plus planted)."""
    spec = table.spec
    total = table.n + len(bad)
    schema = pa.schema([(c, pa.string()) for c in spec.columns])
    bad_at = np.array([row.before for row in bad], dtype=np.int64)
    written = 0
    parquet: Any = None
    handle: Any = None
    try:
        if file_format == "parquet":
            parquet = pq.ParquetWriter(str(path), schema)
        else:
            handle = path.open("wb")
            if file_format == "csv":
                handle.write((",".join(spec.columns) + "\n").encode("utf-8"))
        starts = list(range(0, table.n, chunk_rows)) or [0]
        for start in starts:
            stop = min(start + chunk_rows, table.n)
            last = stop == table.n
            # Planted rows that precede a clean row of this chunk (or trail the whole file).
            lo = int(np.searchsorted(bad_at, start, side="left"))
            hi = len(bad) if last else int(np.searchsorted(bad_at, stop, side="left"))
            planted = bad[lo:hi]
            arrays = table.render(slice(start, stop))
            if parquet is not None:
                _write_parquet_chunk(parquet, schema, arrays, planted, start)
            else:
                _write_text_chunk(handle, table, arrays, planted, start, file_format)
            written += (stop - start) + len(planted)
            if progress is not None:
                progress(f"write:{spec.name}", written, total)
    finally:
        if parquet is not None:
            parquet.close()
        if handle is not None:
            handle.close()
    return written


def _write_text_chunk(
    handle: Any,
    table: Table,
    arrays: list[Any],
    planted: Sequence[BadRow],
    start: int,
    file_format: FileFormat,
) -> None:
    """Write a chunk of CSV or JSON Lines, splicing planted rows in before their clean row."""
    data, offsets = line_bytes(_lines(table, arrays, file_format))
    cursor = 0  # row within the chunk
    for row in planted:
        at = row.before - start
        handle.write(data[offsets[cursor] - offsets[0] : offsets[at] - offsets[0]])
        cursor = at
        if file_format == "csv":
            handle.write(csv_line(row.values))
        else:
            handle.write(jsonl_line(table.spec.columns, row.values))
    handle.write(data[offsets[cursor] - offsets[0] : offsets[-1] - offsets[0]])


def _write_parquet_chunk(
    writer: Any, schema: Any, arrays: list[Any], planted: Sequence[BadRow], start: int
) -> None:
    """Write a chunk as one Parquet row group, planted rows placed before their clean row."""
    columns = [_nulls(array) for array in arrays]
    m = len(columns[0]) if columns else 0
    if planted:
        k = len(planted)
        records = [as_record(row.values) for row in planted]
        extra = [pa.array([r[i] for r in records], type=pa.string()) for i in range(len(columns))]
        before = np.array([row.before - start for row in planted], dtype=np.int64)
        # Final position of clean row i: i + number of planted rows placed before it.
        clean_pos = np.arange(m) + np.searchsorted(before, np.arange(m), side="right")
        bad_pos = before + np.arange(k)
        order = np.empty(m + k, dtype=np.int64)
        order[clean_pos] = np.arange(m)
        order[bad_pos] = m + np.arange(k)
        columns = [
            pa.concat_arrays([c, e]).take(pa.array(order))
            for c, e in zip(columns, extra, strict=True)
        ]
    writer.write_table(pa.Table.from_arrays(columns, schema=schema))
