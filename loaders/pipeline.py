"""``crkg load DIR``: validate every row, write in batches, report read = loaded + rejected.

Files are loaded in contract order (nodes before the relationships that need them), each in
batches of validated rows: one transaction per batch (its ``UNWIND … MERGE`` of the nodes or
relationships, their links and identifiers), written by a single writer so relationship
batches cannot deadlock each other (transient errors are still retried by the store). Every
batch is idempotent, so a batch whose commit answer was lost is written again, and a load
that was killed half-way — the loader or the database — is completed by running it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.errors import CrkgError
from graph.repositories.communities import CommunityRepository
from graph.repositories.erasure import ErasureRepository
from graph.repositories.loads import LoadRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.chunks import ChunkQueue, next_chunk, validate_chunks
from loaders.contract import NODE_FILES, SPECS, FileSpec
from loaders.contract_campaign import OUTCOMES
from loaders.encoding import EncodingChoice, declared, detect_file_encoding
from loaders.erased import erased_reject
from loaders.mapping import Mapping
from loaders.pii import IdentifierHasher, hasher_from_settings
from loaders.plan import CheckSink, OnlineSink, WriteSink, plan_writes
from loaders.rejects import Reject, RejectReason, RejectWriter
from loaders.report import (
    FileReport,
    LoadProgress,
    LoadReport,
    NoProgress,
    RecordsLoad,
    TooManyRejectsError,
    new_run_id,
)
from loaders.sources import (
    FORMATS,
    RawRow,
    SourceFile,
    UnreadableFileError,
    count_rows,
    discover,
    read_header,
)
from loaders.validation import FileValidator, Op, ValidRow

logger = logging.getLogger(__name__)


class Loader:
    """One load of one export directory."""

    def __init__(
        self,
        store: GraphStore,
        settings: CrkgSettings,
        *,
        batch_size: int | None = None,
        rejects_dir: Path | None = None,
        max_reject_ratio: float | None = None,
        progress: LoadProgress | None = None,
        hasher: IdentifierHasher | None = None,
        sink: WriteSink | None = None,
        record_runs: bool = True,
        mapping: Mapping | None = None,
        check_only: bool = False,
    ) -> None:
        self.store = store
        self.repository = LoadRepository(store)
        # --check validates everything (references against the database too) and writes nothing
        self.check_only = check_only
        self.sink: WriteSink = CheckSink() if check_only else sink or OnlineSink(self.repository)
        self.record_runs = record_runs and not check_only  # bulk: recorded after the import
        self.mapping = mapping
        self.batch_size = batch_size or settings.load_batch_size
        self.rejects_dir = rejects_dir or settings.resolved_data_dir / "loads"
        self.max_reject_ratio = max_reject_ratio
        self.progress: LoadProgress = progress or NoProgress()
        self.hasher = hasher or hasher_from_settings(settings)
        # keys known to exist (accepted in this load or found in the database), per node file
        self.known: dict[str, set[str]] = {name: set() for name in NODE_FILES}
        self.checked_absent: dict[str, set[str]] = {name: set() for name in NODE_FILES}
        self._headers: dict[str, list[str]] = {}  # read once, when the files are checked
        self._encodings: dict[str, EncodingChoice] = {}
        self.examples_per_reason = 3

    def _sources(self, directory: Path) -> list[SourceFile]:
        """The export's files, each with the encoding it is read with."""
        files = self.mapping.files if self.mapping is not None else {}
        renamed = {name: f.source for name, f in files.items() if f.source is not None}
        sources = []
        for source in discover(directory, renamed):
            if source.format != "parquet":
                given = files[source.name].encoding if source.name in files else None
                choice = declared(given) if given else detect_file_encoding(source.path)
                self._encodings[source.name] = choice
                source = replace(source, encoding=choice.encoding)
            sources.append(source)
        return sources

    async def load(self, directory: Path) -> LoadReport:
        sources = self._sources(directory)
        if not sources:
            others = sorted(p.name for p in directory.iterdir() if p.suffix in FORMATS)
            held = f"; it holds {', '.join(others[:8])}" if others else ""
            raise CrkgError(
                f"{directory} holds none of the contract's files{held}",
                hint="expected names like customers.csv, social.jsonl, …; a source system's "
                "own file names are mapped in a mapping file (--mapping, files.<name>.source)",
            )
        for source in sources:  # fail before writing anything if a file is unreadable
            self._headers[source.name] = self._check_header(source)
        started = datetime.now(UTC)
        run_id = new_run_id(started)
        report = LoadReport(
            run_id=run_id.replace("load-", "check-", 1) if self.check_only else run_id,
            source=str(directory.resolve()),
            started_at=started,
            rejects_file="",
            check_only=self.check_only,
            mapping=None if self.mapping is None else self.mapping.provenance(),
        )
        rejects_path = self.rejects_dir / f"{report.run_id}-rejects.csv"
        report.rejects_file = str(rejects_path)
        try:
            async with self._recorded(report):
                with RejectWriter(rejects_path) as rejects:
                    for source in sources:
                        file_report = await self._load_file(source, report, rejects)
                        report.files.append(file_report)
                        self._enforce_ratio(file_report)
                await self._mark_profiles_stale(report)
        finally:
            report_path = self.rejects_dir / f"{report.run_id}-report.json"
            report_path.parent.mkdir(parents=True, exist_ok=True)
            report_path.write_text(report.to_json(), encoding="utf-8")
        return report

    @contextlib.asynccontextmanager
    async def _recorded(self, report: LoadReport) -> AsyncIterator[None]:
        """The LoadRun record around a load: RUNNING first, then how it ended."""
        await self._record(report)
        try:
            yield
            done = "CHECKED" if self.check_only else "SUCCEEDED"
            report.status = done if report.rows_rejected == 0 else f"{done}_WITH_REJECTS"
        except BaseException as error:
            report.status = "FAILED"
            report.error = str(error) if isinstance(error, CrkgError) else type(error).__name__
            raise
        finally:
            report.finished_at = datetime.now(UTC)
            try:
                await self._record(report)
            except CrkgError as record_error:  # the database went away: keep the real error
                logger.warning("could not record load run %s: %s", report.run_id, record_error)

    async def _without_dangling(
        self, spec: FileSpec, rows: list[ValidRow], invalid: list[Reject]
    ) -> tuple[list[ValidRow], list[Reject]]:
        """The rows whose references exist, and every reject of the chunk: ``invalid`` (the
        validator's), one for each row naming a customer erased before (it would bring the
        person back; also an invalid row, reported without its data) and one for each
        dangling reference. The erasures are read once per chunk: one committed while a long
        load runs must stop the person's later rows, not only the next load's."""
        erased = await ErasureRepository(self.store).pseudonyms()
        invalid = [erased_reject(erased, spec, r.line, r.raw) or r for r in invalid]
        gone = [erased_reject(erased, spec, row.line, row.values) for row in rows]
        erased_rows = [problem for problem in gone if problem is not None]
        if erased_rows:
            lines = {problem.line for problem in erased_rows}
            rows = [row for row in rows if row.line not in lines]
        dangling = await self._check_references(spec, rows)
        if spec.name == OUTCOMES:
            checked = {problem.line for problem in dangling}
            dangling += await self._off_list([r for r in rows if r.line not in checked])
        lines = {problem.line for problem in dangling}
        return [row for row in rows if row.line not in lines], [*invalid, *erased_rows, *dangling]

    async def _off_list(self, rows: list[ValidRow]) -> list[Reject]:
        """An outcome must name a row of a stored list version with that row's treatment
        code: a reject (NOT_ON_LIST, with the reason) for each that does not."""
        upserts = [row for row in rows if row.op is Op.UPSERT]
        pairs = [(str(r.values["list_version_id"]), str(r.values["customer_id"])) for r in upserts]
        stored = await self.repository.list_rows(pairs)
        problems: list[Reject] = []
        for row, pair in zip(upserts, pairs, strict=True):
            exists, treatment = stored.get(pair, (False, None))
            if not exists:
                why = f"list_version_id {pair[0]!r} is no stored list version"
            elif treatment is None:
                why = f"customer_id {pair[1]!r} is not on list version {pair[0]!r}"
            elif treatment != str(row.values["treatment"]):
                why = (
                    f"customer_id {pair[1]!r} has treatment {treatment!r} on list version "
                    f"{pair[0]!r}, not {row.values['treatment']!r}"
                )
            else:
                continue
            column = "list_version_id" if not exists else "customer_id"
            problems.append(
                Reject(OUTCOMES, row.line, column, RejectReason.NOT_ON_LIST, why, row.raw)
            )
        return problems

    async def _mark_profiles_stale(self, report: LoadReport) -> None:
        """Community profiles count tiers, holdings and scenario members: after a load that
        changed customers, holdings or participation they are marked stale (and say why)
        until a segmentation or community run recomputes them."""
        changed = [f.file for f in report.files if SPECS[f.file].profile_input and f.rows_changed]
        if changed and self.record_runs:  # the bulk import starts from an empty database
            reason = f"load {report.run_id} changed {', '.join(sorted(set(changed)))}"
            await CommunityRepository(self.store).mark_stale(reason, datetime.now(UTC))

    @staticmethod
    def _check_balanced(result: FileReport) -> None:
        if not result.balanced:  # a bug, never bad input: say so loudly
            raise CrkgError(
                f"{result.file}: read {result.rows_read} != loaded "
                f"{result.rows_loaded} + rejected {result.rows_rejected}"
            )

    async def load_records(
        self, file_name: str, records: list[dict[str, Any]], *, source: str
    ) -> RecordsLoad:
        """Load rows that arrive in memory (the API's upserts) exactly as a file's rows.

        Same validation, reference checks, write plan and provenance as ``load``; row ``i`` of
        ``records`` is reported as line ``i + 1``. Nothing is written to a rejects file: the
        caller returns the rejects to whoever sent the rows.
        """
        spec = SPECS.get(file_name)
        if spec is None:
            raise CrkgError(f"no input file named {file_name!r} in the contract")
        started = datetime.now(UTC)
        report = LoadReport(
            run_id=new_run_id(started), source=source, started_at=started, rejects_file=""
        )
        result = FileReport(file_name, source, "records")
        validator = FileValidator(spec)
        valid: list[ValidRow] = []
        rejects: list[Reject] = []
        for number, values in enumerate(records, start=1):
            outcome = validator.validate(RawRow(number, values))
            (rejects if isinstance(outcome, Reject) else valid).append(outcome)  # type: ignore[arg-type]
        async with self._recorded(report):
            valid, rejects = await self._without_dangling(spec, valid, rejects)
            result.rows_read = len(records)
            result.rows_loaded, result.rows_changed = await self._write(spec, valid, report)
            result.rows_deleted = sum(1 for row in valid if row.op is Op.DELETE)
            result.rows_rejected = len(rejects)
            result.reasons = dict(sorted(Counter(r.reason.value for r in rejects).items()))
            report.files.append(result)
            await self._mark_profiles_stale(report)
        self._check_balanced(result)
        rejects.sort(key=lambda reject: reject.line)
        return RecordsLoad(report.run_id, result, rejects)

    def _check_header(self, source: SourceFile) -> list[str]:
        header = read_header(source)
        if source.format == "jsonl":
            return header
        file_mapping = self.mapping.files.get(source.name) if self.mapping else None
        if file_mapping is not None:
            header = file_mapping.rename(header)
        spec = SPECS[source.name]
        missing = [c for c in spec.required if c not in header]
        if missing:
            unknown = [c for c in header if c not in spec.columns and c != "op"]
            detail = f"required column(s) {', '.join(missing)} missing from the header"
            if unknown:
                where = "the mapping's" if file_mapping else "a mapping file's (--mapping)"
                detail += (
                    f"; the header has {', '.join(unknown)}, which the contract does not know: "
                    f"rename the source system's columns in {where} files.{source.name}.columns"
                )
            raise UnreadableFileError(source.path, detail)
        return header

    def _enforce_ratio(self, file_report: FileReport) -> None:
        if self.max_reject_ratio is None or file_report.rows_read == 0:
            return
        ratio = file_report.rows_rejected / file_report.rows_read
        if ratio > self.max_reject_ratio:
            raise TooManyRejectsError(
                f"{file_report.file}: {file_report.rows_rejected} of {file_report.rows_read} "
                f"rows rejected ({ratio:.1%} > --max-reject-ratio {self.max_reject_ratio:.1%}); "
                "the load stopped after this file",
                hint="see the rejects file; files before this one are loaded, and running the "
                "load again after fixing the export completes it",
            )

    async def _record(self, report: LoadReport) -> None:
        if self.record_runs:
            await self.record_report(self.repository, report)

    @staticmethod
    async def record_report(repository: LoadRepository, report: LoadReport) -> None:
        """Store the report as the run's LoadRun node."""
        files = [{k: v for k, v in asdict(f).items() if k != "examples"} for f in report.files]
        await repository.record_run(
            report.run_id,
            {
                **(report.mapping or {}),
                "source": report.source,
                "started_at": report.started_at,
                "finished_at": report.finished_at,
                "status": report.status,
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_rejected": report.rows_rejected,
                "rows_changed": report.rows_changed,
                "rejects_file": report.rejects_file,
                "files_json": json.dumps(files, ensure_ascii=False),
                "error": report.error,
            },
        )

    # --- one file ------------------------------------------------------------------------
    async def _load_file(
        self, source: SourceFile, report: LoadReport, rejects: RejectWriter
    ) -> FileReport:
        spec = SPECS[source.name]
        started = time.perf_counter()
        result = FileReport(source.name, str(source.path), source.format)
        header = self._headers[source.name]
        result.ignored_columns = [c for c in header if c not in spec.columns and c != "op"]
        choice = self._encodings.get(source.name)
        if choice is not None:
            result.encoding, result.encoding_how = choice.encoding, choice.how
            result.encoding_confidence = choice.confidence
            result.encoding_alternatives = list(choice.alternatives)
        file_mapping = self.mapping.files.get(source.name) if self.mapping else None
        result.mapped = file_mapping is not None
        reasons: Counter[str] = Counter()
        self.progress.start_file(source.name, count_rows(source))
        # Reading and validating run in a thread, one chunk ahead of the writes, so the
        # database works on chunk N while Python parses chunk N+1. Writes stay sequential.
        chunks: ChunkQueue = queue.Queue(maxsize=2)
        stop = threading.Event()
        reader = threading.Thread(
            target=validate_chunks,
            args=(source, spec, self.batch_size, chunks, stop, file_mapping),
            name=f"validate-{source.name}",
            daemon=True,
        )
        reader.start()
        try:
            while (item := await asyncio.to_thread(next_chunk, chunks, stop)) is not None:
                if isinstance(item, BaseException):
                    raise item
                valid = item.valid
                valid, screened = await self._without_dangling(spec, valid, item.rejects)
                for reject in screened:
                    rejects.write(reject)
                    reasons[reject.reason.value] += 1
                    if reasons[reject.reason.value] <= self.examples_per_reason:
                        result.examples.append(_example(reject))
                written, changed = await self._write(spec, valid, report)
                result.rows_read += item.rows_read
                result.rows_skipped += item.skipped
                result.rows_loaded += written
                result.rows_changed += changed
                result.rows_deleted += sum(1 for row in valid if row.op is Op.DELETE)
                self.progress.advance(item.rows_read)
        finally:
            stop.set()
            while reader.is_alive():  # unblock a reader waiting on a full queue
                with contextlib.suppress(queue.Empty):
                    chunks.get_nowait()
                reader.join(timeout=0.05)
        result.rows_rejected = sum(reasons.values())
        result.reasons = dict(sorted(reasons.items()))
        result.seconds = round(time.perf_counter() - started, 3)
        self.progress.finish_file(source.name)
        self._check_balanced(result)
        return result

    async def _check_references(self, spec: FileSpec, rows: list[ValidRow]) -> list[Reject]:
        """Reject rows whose references exist neither in this load nor in the database."""
        # Only upserts need their references: deleting something that is not there is a no-op.
        upserts = [row for row in rows if row.op is Op.UPSERT]
        columns = dict(spec.refs)
        for column, referenced in columns.items():
            unknown = {
                str(row.values[column])
                for row in upserts
                if row.values.get(column) is not None
                and str(row.values[column]) not in self.known[referenced]
            }
            unknown -= self.checked_absent[referenced]
            if unknown:
                found = await self.repository.existing_keys(NODE_FILES[referenced], unknown)
                self.known[referenced] |= found
                self.checked_absent[referenced] |= unknown - found
        problems: list[Reject] = []
        for row in upserts:
            for column, referenced in columns.items():
                value = row.values.get(column)
                if value is not None and str(value) not in self.known[referenced]:
                    problems.append(
                        Reject(
                            spec.name,
                            row.line,
                            column,
                            RejectReason.DANGLING_REFERENCE,
                            f"{column} {value!r} is neither in this load's {referenced} nor in the "
                            "database",
                            row.raw,
                        )
                    )
                    break
        return problems

    async def _write(
        self, spec: FileSpec, rows: list[ValidRow], report: LoadReport
    ) -> tuple[int, int]:
        if not rows:
            return 0, 0
        loaded_at = datetime.now(UTC)
        written = changed = 0
        ops = plan_writes(spec, rows, self.hasher)
        results = await self.sink.write_chunk(ops, report.run_id, loaded_at)  # all or nothing
        for op, (op_written, op_changed) in zip(ops, results, strict=True):
            if op.counted:
                written += op_written
                changed += op_changed
        self._remember(spec, rows)
        return written, changed

    def _remember(self, spec: FileSpec, rows: list[ValidRow]) -> None:
        if spec.name not in NODE_FILES:
            return
        key_column = spec.key[0]
        for row in rows:
            key = str(row.values[key_column])
            if row.op is Op.UPSERT:
                self.known[spec.name].add(key)
                self.checked_absent[spec.name].discard(key)
            else:
                self.known[spec.name].discard(key)
                self.checked_absent[spec.name].add(key)


def _example(reject: Reject) -> dict[str, object]:
    """A reject as the report shows it: where and why, without the raw row (it may be PII)."""
    return {
        "line": reject.line,
        "column": reject.column,
        "reason": reject.reason.value,
        "message": reject.message,
    }
