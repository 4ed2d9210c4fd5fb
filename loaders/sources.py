"""Find the files of an export and read their rows with line numbers (CSV, JSONL, Parquet)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import CrkgError
from loaders.contract import FILE_ORDER

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}


class UnreadableFileError(CrkgError):
    """A file of the export cannot be read at all (the whole load fails)."""

    exit_code = 6

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"cannot read {path}: {detail}")
        self.path = path


@dataclass(frozen=True)
class SourceFile:
    name: str  # contract name: customers, social, …
    path: Path
    format: str
    encoding: str = "utf-8"  # of CSV and JSONL files (see loaders.encoding)


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based physical line of the row's start (header = line 1 in CSV)
    values: dict[str, Any]
    problem: str | None = None  # set when the row could not even be split into fields


def discover(directory: Path, renamed: dict[str, str] | None = None) -> list[SourceFile]:
    """The contract's files present in ``directory``, in load order (nodes first).

    ``renamed`` names the source system's file for a contract file (from its mapping); that
    file must exist, and a file under the contract's own name may not sit beside it.
    """
    if not directory.is_dir():
        raise CrkgError(f"{directory} is not a directory", hint="crkg load takes a folder")
    found: list[SourceFile] = []
    for name in FILE_ORDER:
        candidates = [directory / f"{name}{ext}" for ext in FORMATS]
        if renamed and name in renamed:
            declared = directory / renamed[name]
            if not declared.exists():
                raise CrkgError(
                    f"the mapping reads {name} from {declared}, which does not exist",
                    hint="fix the mapping's files.<name>.source, or the export",
                )
            candidates = list(dict.fromkeys([declared, *candidates]))
        present = [p for p in candidates if p.exists()]
        if len(present) > 1:
            raise CrkgError(
                f"{directory} holds {name} in several formats: "
                f"{', '.join(p.name for p in present)}",
                hint="keep one file per kind so no row is loaded twice",
            )
        if present:
            path = present[0]
            found.append(SourceFile(name, path, FORMATS[path.suffix]))
    return found


def count_rows(source: SourceFile) -> int:
    """Rows in the file, for the progress bar (lines minus the header for CSV)."""
    if source.format == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(source.path).metadata.num_rows)
    with source.path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - 1) if source.format == "csv" else lines


def read_header(source: SourceFile) -> list[str]:
    try:
        if source.format == "csv":
            # the decoder reads ahead: a bad byte further down must not fail the header
            with source.path.open(
                encoding=source.encoding, errors="surrogateescape", newline=""
            ) as f:
                header = next(csv.reader(f), None)
            if header is None:
                raise UnreadableFileError(source.path, "the file is empty (no header row)")
            if any("\udc80" <= ch <= "\udcff" for name in header for ch in name):
                raise UnreadableFileError(
                    source.path,
                    f"the header row is not {source.encoding}; declare the file's encoding in "
                    "a mapping file (files.<name>.encoding, e.g. gb18030)",
                )
            return [h.strip().lstrip("\ufeff") for h in header]
        if source.format == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(source.path).schema_arrow.names)
        return []  # JSONL rows carry their own keys
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            source.path, f"the header is not {source.encoding} ({error})"
        ) from error
    except OSError as error:
        raise UnreadableFileError(source.path, str(error)) from error
    except Exception as error:  # pyarrow raises its own types for a damaged file
        raise UnreadableFileError(source.path, f"{type(error).__name__}: {error}") from error


def iter_rows(source: SourceFile) -> Iterator[RawRow]:
    try:
        if source.format == "csv":
            yield from _csv_rows(source.path, source.encoding)
        elif source.format == "jsonl":
            yield from _jsonl_rows(source.path, source.encoding)
        else:
            yield from _parquet_rows(source.path)
    except OSError as error:
        raise UnreadableFileError(source.path, str(error)) from error


def _csv_rows(path: Path, encoding: str) -> Iterator[RawRow]:
    # surrogateescape keeps invalid bytes inside the one field they spoil, so that row alone
    # is rejected (BAD_UTF8, BAD_ENCODING) instead of the whole file failing to decode.
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        # strict: an unclosed quote must fail loudly instead of swallowing later lines
        reader = csv.reader(handle, strict=True)
        try:
            yield from _csv_records(reader)
        except csv.Error as error:
            raise UnreadableFileError(
                path,
                f"broken CSV structure near line {reader.line_num} ({error}); the rows after it "
                "cannot be told apart",
            ) from error


def _csv_records(reader: Any) -> Iterator[RawRow]:
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    start = reader.line_num + 1
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            start = reader.line_num + 1
            continue  # blank line
        if len(fields) != len(header):
            yield RawRow(
                start,
                {"fields": fields},
                f"{len(fields)} fields where the header has {len(header)}",
            )
        else:
            yield RawRow(start, dict(zip(header, fields, strict=True)))
        start = reader.line_num + 1


def _jsonl_rows(path: Path, encoding: str) -> Iterator[RawRow]:
    with path.open(encoding=encoding, errors="surrogateescape") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError as error:
                yield RawRow(number, {"text": text.rstrip("\n")}, f"not JSON: {error}")
                continue
            if not isinstance(value, dict):
                yield RawRow(number, {"text": text.rstrip("\n")}, "not a JSON object")
                continue
            yield RawRow(number, value)


def _parquet_rows(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        line = 0
        for batch in parquet.iter_batches(batch_size=65_536):
            for record in batch.to_pylist():
                line += 1
                yield RawRow(line, record)
    except OSError:
        raise
    except Exception as error:  # pyarrow's ArrowInvalid and friends
        raise UnreadableFileError(path, f"{type(error).__name__}: {error}") from error
