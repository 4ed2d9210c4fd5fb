"""``crkg contract [--json]``: the input contract — every file, column, type, domain and which
columns are required (the README's table is the same, from the same source)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, friendly_errors
from loaders.contract import CONTRACT_VERSION, FILE_ORDER, OPS, SPECS
from loaders.published_contract import describe, describe_column


@friendly_errors
def contract(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Print the input contract: files, columns, types, domains, required columns."""
    if as_json:
        typer.echo(json.dumps(describe(), ensure_ascii=False, indent=2))
        return
    console.print(
        f"input contract {CONTRACT_VERSION}: CSV (UTF-8, header row), JSON Lines or Parquet; "
        f"every file optional; an optional `op` column ({' or '.join(OPS)}, default {OPS[0]})",
        highlight=False,
    )
    for name in FILE_ORDER:
        spec = SPECS[name]
        table = Table(title=f"{name} → {spec.graph_target()}", title_justify="left")
        for column in ("column", "type", "required", "domain"):
            table.add_column(column)
        for column in spec.columns:
            described = describe_column(spec, column)
            table.add_row(
                column, described.type, "yes" if described.required else "", described.domain
            )
        console.print(table)
