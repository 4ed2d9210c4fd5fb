"""What a load reports: rows read, loaded, rejected and changed per file, and how it ended.

read = loaded + rejected (+ skipped, rows a mapping's skip rule names) for every file, always;
the report is printed, written next to the
rejects file and stored as the run's ``LoadRun`` node.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol, overload

from graph.errors import CrkgError
from loaders.rejects import Reject


class LoadProgress(Protocol):
    def start_file(self, name: str, total_rows: int) -> None: ...
    def advance(self, rows: int) -> None: ...
    def finish_file(self, name: str) -> None: ...


class NoProgress:
    def start_file(self, name: str, total_rows: int) -> None:
        return None

    def advance(self, rows: int) -> None:
        return None

    def finish_file(self, name: str) -> None:
        return None


class TooManyRejectsError(CrkgError):
    exit_code = 7


@dataclass
class FileReport:
    file: str
    path: str
    format: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_changed: int = 0  # created, updated or deleted something
    rows_deleted: int = 0  # op=DELETE rows among the loaded
    rows_skipped: int = 0  # rows a skip rule of the mapping names (footer totals, …)
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str | None = None  # CSV and JSONL: the encoding the file was read with
    encoding_how: str | None = None  # declared (by the mapping) or detected
    encoding_confidence: float | None = None
    encoding_alternatives: list[str] = field(default_factory=list)
    mapped: bool = False  # a mapping file shaped the rows
    # the first rejects per reason (line, column, reason, message): never stored in the LoadRun
    examples: list[dict[str, object]] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_rejected + self.rows_skipped


TOTALS = ("rows_read", "rows_loaded", "rows_rejected", "rows_changed", "rows_skipped")
"""The counts a :class:`LoadReport` totals over its files (and writes into its JSON)."""


class _Total:
    """A read-only count of a :class:`LoadReport`: the sum of its files' count of that name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, report: None, owner: type) -> _Total: ...
    @overload
    def __get__(self, report: LoadReport, owner: type | None = None) -> int: ...
    def __get__(self, report: LoadReport | None, owner: type | None = None) -> int | _Total:
        if report is None:
            return self
        return sum(int(getattr(f, self.name)) for f in report.files)


@dataclass
class LoadReport:
    run_id: str
    source: str
    started_at: datetime
    rejects_file: str
    files: list[FileReport] = field(default_factory=list)
    finished_at: datetime | None = None
    status: str = "RUNNING"
    error: str | None = None
    check_only: bool = False  # crkg load --check: validated, nothing written
    mapping: dict[str, str] | None = None  # the mapping file's path, system, version, sha256

    rows_read = _Total()
    rows_loaded = _Total()
    rows_rejected = _Total()
    rows_changed = _Total()
    rows_skipped = _Total()

    def to_json(self) -> str:
        body = asdict(self)
        body.update({name: getattr(self, name) for name in TOTALS})
        return json.dumps(body, default=str, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class RecordsLoad:
    """The outcome of ``Loader.load_records``: its LoadRun id, counts and every reject."""

    run_id: str
    report: FileReport
    rejects: list[Reject]


def new_run_id(now: datetime) -> str:
    return f"load-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
