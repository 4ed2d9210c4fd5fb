"""``crkg init``: every constraint and index that is missing, and the schema version."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli import common
from cli.common import console, friendly_errors
from graph.repositories.schema import SchemaInitResult, SchemaRepository
from graph.settings import CrkgSettings
from graph.store import connected_store


async def initialise_schema(settings: CrkgSettings) -> SchemaInitResult:
    async with connected_store(settings) as store:
        return await SchemaRepository(store).apply()


@friendly_errors
def init(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Create the constraints and indexes (idempotent) and record the schema version."""
    settings = common.settings()
    result = common.run(initialise_schema(settings))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "version": result.version,
                    "created": result.created,
                    "alreadyPresent": result.already_present,
                }
            )
        )
        return
    if result.created:
        console.print(f"created {len(result.created)}: {', '.join(result.created)}")
    console.print(
        f"schema version {result.version}; {len(result.already_present)} of "
        f"{len(result.created) + len(result.already_present)} constraints and indexes were "
        "already present"
    )
