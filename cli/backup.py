"""``crkg backup`` / ``crkg restore``: dump and load the managed Neo4j's database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import common
from cli.common import console, friendly_errors
from graph.errors import CrkgError
from graph.localserver.backup import backup as dump_database
from graph.localserver.backup import restore as load_database
from graph.localserver.manager import LocalNeo4j
from graph.settings import CrkgSettings

EXTERNAL_HINT = (
    "on the database host: `neo4j-admin database dump <db> --to-path=DIR` with the database "
    "stopped (Community) or `neo4j-admin database backup` (Enterprise, online); see the "
    "README's Backups section"
)


def _managed(settings: CrkgSettings) -> LocalNeo4j:
    if not settings.uses_local_server:
        raise CrkgError(
            f"CRKG_NEO4J_URI is set ({settings.neo4j_uri}): crkg backs up only its managed server",
            hint=EXTERNAL_HINT,
        )
    return LocalNeo4j(settings)


@friendly_errors
def backup(
    to: Annotated[
        Path | None, typer.Option(help="the folder for the dump (default: <data_dir>/backups)")
    ] = None,
) -> None:
    """Dump the managed Neo4j's database (it is stopped for the dump and started again)."""
    settings = common.settings()
    server = _managed(settings)
    folder = to if to is not None else settings.resolved_data_dir / "backups"
    written = dump_database(server, folder, progress=common.say)
    console.print(f"backup written: {written} ({written.stat().st_size:,} bytes)")


@friendly_errors
def restore(
    dump_file: Annotated[Path, typer.Argument(help="a .dump file written by crkg backup")],
    yes: Annotated[
        bool, typer.Option("--yes", help="replace the current database without asking")
    ] = False,
) -> None:
    """Replace the managed Neo4j's database with a dump, then start the server."""
    settings = common.settings()
    server = _managed(settings)
    if not yes:
        typer.confirm(
            f"replace database {settings.neo4j_database} of instance "
            f"{settings.local_instance} with {dump_file}?",
            abort=True,
        )
    load_database(server, dump_file, progress=common.say)
    console.print(f"restored {dump_file} into {settings.neo4j_database}; the server is running")
