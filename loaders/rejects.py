"""Why a row was rejected, and the private file where rejected rows are kept."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from loaders.contract import RejectReason  # the reason codes are part of the contract

__all__ = ["Reject", "RejectReason", "RejectWriter"]


@dataclass(frozen=True)
class Reject:
    file: str
    line: int
    column: str | None
    reason: RejectReason
    message: str
    raw: dict[str, Any]


def _visible(text: str) -> str:
    """Invalid UTF-8 arrives as surrogate escapes: show it as \\xNN instead of failing."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


REJECT_COLUMNS = ("file", "line", "column", "reason_code", "message", "raw_row")


class RejectWriter:
    """Appends rejects to a CSV readable only by its owner (it holds raw rows, maybe PII)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: IO[str] | None = None
        self._writer: Any = None

    def __enter__(self) -> RejectWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(REJECT_COLUMNS)
        return self

    def write(self, reject: Reject) -> None:
        assert self._writer is not None, "use RejectWriter as a context manager"
        raw = json.dumps(reject.raw, ensure_ascii=False, default=str)
        self._writer.writerow(
            (
                reject.file,
                reject.line,
                _visible(reject.column or ""),
                reject.reason.value,
                _visible(reject.message),
                _visible(raw),
            )
        )
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
