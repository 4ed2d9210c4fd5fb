"""``crkg neo4j start|stop|status``: the managed local Neo4j (Community 5.26 + open GDS)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli import common
from cli.common import console, err_console, friendly_errors
from graph.errors import CrkgError
from graph.localserver.manager import LocalNeo4j, LocalServerStatus
from graph.settings import CrkgSettings

app = typer.Typer(help="The managed local Neo4j (Community 5.26 + open GDS).", no_args_is_help=True)


@app.command("start")
@friendly_errors
def neo4j_start() -> None:
    """Resolve (once), configure and start the managed Neo4j; a no-op when it already runs."""
    settings = common.settings()
    refuse_external(settings)
    with err_console.status("starting the managed Neo4j …"):
        status = LocalNeo4j(settings).start(progress=common.say)
    print_status(status)


@app.command("stop")
@friendly_errors
def neo4j_stop() -> None:
    """Stop the managed Neo4j cleanly."""
    settings = common.settings()
    refuse_external(settings)
    stopped = LocalNeo4j(settings).stop(progress=common.say)
    console.print("stopped" if stopped else "not running")


@app.command("status")
@friendly_errors
def neo4j_status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Versions, pid, URI and where the credentials are. Exit code 1 when not running."""
    settings = common.settings()
    refuse_external(settings)
    status = LocalNeo4j(settings).status()
    if as_json:
        typer.echo(status.to_json())
    else:
        print_status(status)
    if not status.running:
        raise typer.Exit(1)


def refuse_external(settings: CrkgSettings) -> None:
    if not settings.uses_local_server:
        raise CrkgError(
            f"CRKG_NEO4J_URI is set ({settings.neo4j_uri}): crkg does not manage that server",
            hint="unset CRKG_NEO4J_URI to use the managed local Neo4j",
        )


def print_status(status: LocalServerStatus) -> None:
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    state = "[green]running[/]" if status.running else "[red]stopped[/]"
    for label, value in (
        ("state", state),
        ("uri", status.uri),
        ("neo4j", f"{status.neo4j_version or '-'} ({status.edition or '-'})"),
        ("gds", status.gds_version or "-"),
        ("pid", str(status.pid or "-")),
        ("credentials", status.credentials_file),
        ("home", status.home),
        ("log", status.log_file),
        ("memory", f"heap {status.heap_mib} MiB, page cache {status.pagecache_mib} MiB"),
    ):
        table.add_row(label, value)
    if status.problem is not None and status.problem != "not running":
        table.add_row("problem", f"[yellow]{status.problem}[/]")
    console.print(table)
