"""The ``crkg`` command line. Errors are printed as one clear message, never a traceback."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from graph.errors import CrkgError
from graph.localserver.manager import LocalNeo4j, LocalServerStatus
from graph.repositories.schema import SchemaInitResult, SchemaRepository
from graph.settings import CrkgSettings, get_settings
from graph.store import GraphStore, open_driver

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="crkg",
    help="Customer relationship knowledge graph: Neo4j + graph algorithms + GraphQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
neo4j_app = typer.Typer(
    help="The managed local Neo4j (Community 5.26 + open GDS).", no_args_is_help=True
)
app.add_typer(neo4j_app, name="neo4j")

console = Console()
err_console = Console(stderr=True)


def _friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn crkg's errors and bad settings into a message and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CrkgError as error:
            err_console.print(f"[bold red]error:[/] {error.message}", highlight=False)
            if error.hint:
                err_console.print(f"[yellow]hint:[/] {error.hint}", highlight=False)
            raise typer.Exit(error.exit_code) from None
        except ValidationError as error:
            err_console.print("[bold red]error:[/] invalid CRKG_* settings:", highlight=False)
            for problem in error.errors():
                where = ".".join(str(part) for part in problem["loc"]) or "settings"
                err_console.print(f"  CRKG_{where.upper()}: {problem['msg']}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _settings() -> CrkgSettings:
    return get_settings()


def _run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def _progress(message: str) -> None:
    err_console.print(f"[dim]·[/] {message}", highlight=False)


# --- crkg neo4j ---------------------------------------------------------------------------
@neo4j_app.command("start")
@_friendly_errors
def neo4j_start() -> None:
    """Resolve (once), configure and start the managed Neo4j; a no-op when it already runs."""
    settings = _settings()
    _refuse_external(settings)
    with err_console.status("starting the managed Neo4j …"):
        status = LocalNeo4j(settings).start(progress=_progress)
    _print_status(status)


@neo4j_app.command("stop")
@_friendly_errors
def neo4j_stop() -> None:
    """Stop the managed Neo4j cleanly."""
    settings = _settings()
    _refuse_external(settings)
    stopped = LocalNeo4j(settings).stop(progress=_progress)
    console.print("stopped" if stopped else "not running")


@neo4j_app.command("status")
@_friendly_errors
def neo4j_status(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Versions, pid, URI and where the credentials are. Exit code 1 when not running."""
    settings = _settings()
    _refuse_external(settings)
    status = LocalNeo4j(settings).status()
    if as_json:
        typer.echo(status.to_json())
    else:
        _print_status(status)
    if not status.running:
        raise typer.Exit(1)


def _refuse_external(settings: CrkgSettings) -> None:
    if not settings.uses_local_server:
        raise CrkgError(
            f"CRKG_NEO4J_URI is set ({settings.neo4j_uri}): crkg does not manage that server",
            hint="unset CRKG_NEO4J_URI to use the managed local Neo4j",
        )


def _print_status(status: LocalServerStatus) -> None:
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


# --- crkg init ------------------------------------------------------------------------------
async def initialise_schema(settings: CrkgSettings) -> SchemaInitResult:
    driver = await open_driver(settings)
    try:
        return await SchemaRepository(GraphStore.from_settings(driver, settings)).apply()
    finally:
        await driver.close()


@app.command("init")
@_friendly_errors
def init(
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Create the constraints and indexes (idempotent) and record the schema version."""
    settings = _settings()
    result = _run(initialise_schema(settings))
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


# --- crkg serve / demo ------------------------------------------------------------------------
@app.command("serve")
@_friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (CRKG_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (CRKG_API_PORT)")] = None,
) -> None:
    """Serve the API (health, readiness; GraphQL arrives with the API issue)."""
    _serve(_settings(), host, port)


def _serve(settings: CrkgSettings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import create_app

    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    console.print(
        f"crkg API on http://{bind_host}:{bind_port}  (/healthz, /readyz, /docs) — Ctrl+C stops"
    )
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


@app.command("demo")
@_friendly_errors
def demo(
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="keep serving the API at the end")
    ] = True,
) -> None:
    """End to end on the managed local Neo4j: start it, create the schema, serve the API."""
    settings = _settings()
    if settings.uses_local_server:
        console.rule("1. the managed Neo4j")
        with err_console.status("starting the managed Neo4j …"):
            status = LocalNeo4j(settings).start(progress=_progress)
        _print_status(status)
    console.rule("2. the schema")
    result = _run(initialise_schema(settings))
    console.print(
        f"schema version {result.version}: {len(result.created)} created, "
        f"{len(result.already_present)} already present"
    )
    if serve_api:
        console.rule("3. the API")
        _serve(settings, None, None)


def main() -> None:  # pragma: no cover - console script entry
    logging.basicConfig(level=logging.WARNING)
    app()
