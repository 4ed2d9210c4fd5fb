"""``crkg load``: validate an export and write it idempotently (online, or bulk into an empty
managed database); report read = loaded + rejected for every file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID
from rich.table import Table

from cli import common
from cli.common import console, err_console, friendly_errors
from graph.settings import CrkgSettings
from graph.store import connected_store
from loaders.mapping import Mapping, load_mapping
from loaders.pipeline import Loader
from loaders.report import FileReport, LoadProgress, LoadReport


class _RichLoadProgress:
    """A progress bar per file, on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start_file(self, name: str, total_rows: int) -> None:
        self.task = self.progress.add_task(name, total=total_rows)

    def advance(self, rows: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, rows)

    def finish_file(self, name: str) -> None:
        if self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, total=task.completed)


async def load_directory(
    settings: CrkgSettings,
    directory: Path,
    *,
    batch_size: int | None,
    max_reject_ratio: float | None,
    progress: LoadProgress | None,
    mapping: Mapping | None = None,
    check_only: bool = False,
) -> LoadReport:
    async with connected_store(settings) as store:
        loader = Loader(
            store,
            settings,
            batch_size=batch_size,
            max_reject_ratio=max_reject_ratio,
            progress=progress,
            mapping=mapping,
            check_only=check_only,
        )
        return await loader.load(directory)


@friendly_errors
def load(
    directory: Annotated[Path, typer.Argument(help="folder of the export (CSV, JSONL, Parquet)")],
    batch_size: Annotated[
        int | None, typer.Option(help="rows per transaction (CRKG_LOAD_BATCH_SIZE)", min=1)
    ] = None,
    max_reject_ratio: Annotated[
        float | None,
        typer.Option(
            help="fail when a file rejects more than this share of its rows (0..1)",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="initial load of an EMPTY managed database via neo4j-admin "
            "import (stops and restarts the server)",
        ),
    ] = False,
    mapping_file: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="the source system's mapping file (YAML): file and column names, encodings, "
            "value maps, number and date formats",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="dry run: validate everything (references against the database too) and "
            "print the report; nothing is written to the database",
        ),
    ] = False,
) -> None:
    """Load a bank export: validate, write idempotently, report read = loaded + rejected."""
    settings = common.settings()
    mapping = load_mapping(mapping_file) if mapping_file is not None else None
    if bulk and (check or mapping is not None):
        raise typer.BadParameter("--bulk takes neither --check nor --mapping (yet)")
    if bulk:
        from loaders.bulk import bulk_load

        with Progress(*common.bar_columns(), console=err_console, disable=as_json) as bar:
            report = common.run(
                bulk_load(
                    settings,
                    directory,
                    progress=_RichLoadProgress(bar),
                    max_reject_ratio=max_reject_ratio,
                    announce=common.say,
                )
            )
        _show_report(report, as_json)
        return
    load_with_bars(
        settings, directory, batch_size, max_reject_ratio, as_json, mapping=mapping, check=check
    )


def load_with_bars(
    settings: CrkgSettings,
    directory: Path,
    batch_size: int | None,
    max_reject_ratio: float | None,
    as_json: bool,
    *,
    mapping: Mapping | None = None,
    check: bool = False,
) -> None:
    """The online load with a bar per file, then its report (``crkg load`` and the demo)."""
    with Progress(*common.bar_columns(), console=err_console, disable=as_json) as bar:
        report = common.run(
            load_directory(
                settings,
                directory,
                batch_size=batch_size,
                max_reject_ratio=max_reject_ratio,
                progress=_RichLoadProgress(bar),
                mapping=mapping,
                check_only=check,
            )
        )
    _show_report(report, as_json)


def _show_report(report: LoadReport, as_json: bool) -> None:
    if as_json:
        typer.echo(report.to_json())
    else:
        _print_load_report(report)
    if report.rows_rejected:
        err_console.print(
            f"[yellow]warning:[/] {report.rows_rejected} rows rejected; see {report.rejects_file}",
            highlight=False,
        )


def _print_load_report(report: LoadReport) -> None:
    what = "check (nothing written)" if report.check_only else "load"
    table = Table(title=f"{what} {report.run_id}: {report.status}")
    table.add_column("file", min_width=21, no_wrap=True)
    loaded = "would load" if report.check_only else "loaded"
    for column in ("read", loaded, "rejected", "changed", "seconds", "rows/s"):
        table.add_column(column, justify="right", no_wrap=True)
    for f in report.files:
        rate = f"{f.rows_read / f.seconds:,.0f}" if f.seconds else "-"
        table.add_row(
            f.file,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_rejected:,}",
            f"{f.rows_changed:,}",
            f"{f.seconds:.1f}",
            rate,
        )
    table.add_row(
        "total",
        f"{report.rows_read:,}",
        f"{report.rows_loaded:,}",
        f"{report.rows_rejected:,}",
        f"{report.rows_changed:,}",
        "",
        "",
        style="bold",
    )
    console.print(table)
    if report.mapping is not None:
        m = report.mapping
        console.print(
            f"  mapping {m['mapping_path']}: {m['mapping_source_system']} version "
            f"{m['mapping_version']} (sha256 {m['mapping_sha256'][:12]}…)",
            highlight=False,
        )
    for f in report.files:
        _print_file_notes(f)


def _print_file_notes(f: FileReport) -> None:
    """Encoding, skipped rows, reasons with examples and ignored columns of one file."""
    if f.encoding is not None:
        how = "declared" if f.encoding_how == "declared" else "detected"
        sure = "" if how == "declared" else f", confidence {f.encoding_confidence:.2f}"
        also = (
            f"; also plausible: {', '.join(f.encoding_alternatives)}"
            if f.encoding_alternatives
            else ""
        )
        console.print(f"  {f.file}: {f.encoding} ({how}{sure}{also})", highlight=False)
    if f.rows_skipped:
        console.print(f"  {f.file}: {f.rows_skipped} rows skipped by the mapping", highlight=False)
    if f.reasons:
        reasons = ", ".join(f"{code} {count}" for code, count in f.reasons.items())
        console.print(f"  {f.file} rejected: {reasons}", highlight=False)
        for example in f.examples:
            console.print(
                f"    line {example['line']} {example['reason']}: {example['message']}",
                highlight=False,
                markup=False,
            )
    if f.ignored_columns:
        console.print(
            f"  {f.file}: ignored unknown columns {', '.join(f.ignored_columns)}",
            highlight=False,
        )
