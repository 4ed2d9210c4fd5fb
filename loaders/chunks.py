"""The loader's reader thread: read, map (when the source has a mapping) and validate one
chunk of rows at a time, one chunk ahead of the writes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loaders.contract import FileSpec
from loaders.mapping import FileMapping, SkipRule
from loaders.rejects import Reject
from loaders.sources import SourceFile, iter_rows
from loaders.validation import FileValidator, ValidRow


@dataclass(frozen=True)
class ValidatedChunk:
    rows_read: int
    valid: list[ValidRow]
    rejects: list[Reject]
    skipped: int = 0  # rows a skip rule of the mapping names (footer totals, …)


ChunkQueue = queue.Queue[ValidatedChunk | BaseException | None]


def next_chunk(chunks: ChunkQueue, stop: threading.Event) -> ValidatedChunk | BaseException | None:
    """Wait for the reader, but give up when the load stops (Ctrl+C must not hang)."""
    while not stop.is_set():
        try:
            return chunks.get(timeout=0.2)
        except queue.Empty:
            continue
    return None


def validate_chunks(
    source: SourceFile,
    spec: FileSpec,
    batch_size: int,
    out: ChunkQueue,
    stop: threading.Event,
    mapping: FileMapping | None = None,
) -> None:
    """The reader thread: parse and validate chunks until the file ends or the load stops."""
    validator = FileValidator(spec, encoding=source.encoding, mapped=mapping is not None)
    datetimes = frozenset(spec.datetimes)
    try:
        for chunk in _chunks(iter_rows(source), batch_size):
            valid: list[ValidRow] = []
            rejected: list[Reject] = []
            skipped = 0
            for raw in chunk:
                if mapping is not None:
                    mapped = mapping.apply(raw, datetimes=datetimes)
                    if isinstance(mapped, SkipRule):
                        skipped += 1
                        continue
                    if isinstance(mapped, Reject):
                        rejected.append(mapped)
                        continue
                    raw = mapped
                outcome = validator.validate(raw)
                (rejected if isinstance(outcome, Reject) else valid).append(outcome)  # type: ignore[arg-type]
            if stop.is_set():
                return
            out.put(ValidatedChunk(len(chunk), valid, rejected, skipped))
        out.put(None)
    except BaseException as error:  # handed to the writer, which raises it
        out.put(error)


def _chunks(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
