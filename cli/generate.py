"""``crkg generate``: a synthetic bank in the input contract, with its planted ground truth."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.common import console, err_console, friendly_errors
from synthbank.limits import MAX_BAD_ROW_RATE, MIN_CUSTOMERS


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


@friendly_errors
def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the export into")],
    customers: Annotated[
        int, typer.Option("--customers", min=MIN_CUSTOMERS, help="number of customers")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="same seed, same bank (byte for byte)")] = 42,
    bad_rows: Annotated[
        float,
        typer.Option(
            "--bad-rows", min=0.0, max=MAX_BAD_ROW_RATE, help="share of invalid rows to plant"
        ),
    ] = 0.0,
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="file format of the export")
    ] = ExportFormat.CSV,
) -> None:
    """Write a realistic synthetic bank in the input contract, with its planted ground truth."""
    from synthbank.bank import generate_bank  # numpy: only when generating

    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task("generating", total=None)

        def report(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        summary = generate_bank(
            out,
            customers=customers,
            seed=seed,
            bad_row_rate=bad_rows,
            file_format=file_format.value,
            progress=report,
        )
    console.print(
        f"wrote a {customers:,}-customer bank to {out} in "
        f"{summary.elapsed_seconds:.1f}s; ground truth in {out / 'ground_truth'}"
    )
