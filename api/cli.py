"""The ``crkg`` command line. Errors are printed as one clear message, never a traceback."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from api.security.auth import Role
from graph.errors import CrkgError
from graph.localserver.manager import LocalNeo4j, LocalServerStatus
from graph.repositories.schema import SchemaInitResult, SchemaRepository
from graph.settings import CrkgSettings, get_settings
from graph.store import connected_store
from loaders.pipeline import Loader, LoadProgress, LoadReport

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
algo_app = typer.Typer(help="Graph algorithms: list them, run one.", no_args_is_help=True)
app.add_typer(algo_app, name="algo")

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
    async with connected_store(settings) as store:
        return await SchemaRepository(store).apply()


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


class ExportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


# --- crkg generate --------------------------------------------------------------------------
@app.command("generate")
@_friendly_errors
def generate(
    out: Annotated[Path, typer.Option("--out", help="folder to write the export into")],
    customers: Annotated[
        int, typer.Option("--customers", min=10, help="number of customers")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="same seed, same bank (byte for byte)")] = 42,
    bad_rows: Annotated[
        float, typer.Option("--bad-rows", min=0.0, max=0.5, help="share of invalid rows to plant")
    ] = 0.0,
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="file format of the export")
    ] = ExportFormat.CSV,
) -> None:
    """Write a realistic synthetic bank in the input contract, with its planted ground truth."""
    from loaders.generator import generate_bank

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


# --- crkg load --------------------------------------------------------------------------------
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
) -> LoadReport:
    async with connected_store(settings) as store:
        loader = Loader(
            store,
            settings,
            batch_size=batch_size,
            max_reject_ratio=max_reject_ratio,
            progress=progress,
        )
        return await loader.load(directory)


@app.command("load")
@_friendly_errors
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
) -> None:
    """Load a bank export: validate, write idempotently, report read = loaded + rejected."""
    settings = _settings()
    if bulk:
        from loaders.bulk import bulk_load

        with Progress(*_bar_columns(), console=err_console, disable=as_json) as bar:
            report = _run(
                bulk_load(
                    settings,
                    directory,
                    progress=_RichLoadProgress(bar),
                    max_reject_ratio=max_reject_ratio,
                    announce=_progress,
                )
            )
        _show_report(report, as_json)
        return
    _load_with_bars(settings, directory, batch_size, max_reject_ratio, as_json)


def _load_with_bars(
    settings: CrkgSettings,
    directory: Path,
    batch_size: int | None,
    max_reject_ratio: float | None,
    as_json: bool,
) -> None:
    """The online load with a bar per file, then its report (``crkg load`` and the demo)."""
    with Progress(*_bar_columns(), console=err_console, disable=as_json) as bar:
        report = _run(
            load_directory(
                settings,
                directory,
                batch_size=batch_size,
                max_reject_ratio=max_reject_ratio,
                progress=_RichLoadProgress(bar),
            )
        )
    _show_report(report, as_json)


def _bar_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


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
    table = Table(title=f"load {report.run_id}: {report.status}")
    table.add_column("file", min_width=21, no_wrap=True)
    for column in ("read", "loaded", "rejected", "changed", "seconds", "rows/s"):
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
    for f in report.files:
        if f.reasons:
            reasons = ", ".join(f"{code} {count}" for code, count in f.reasons.items())
            console.print(f"  {f.file} rejected: {reasons}", highlight=False)
        if f.ignored_columns:
            console.print(
                f"  {f.file}: ignored unknown columns {', '.join(f.ignored_columns)}",
                highlight=False,
            )


# --- crkg algo ----------------------------------------------------------------------------------
@algo_app.command("list")
@_friendly_errors
def algo_list() -> None:
    """Every registered algorithm with its engines, result property and parameters."""
    from algorithms.registry import REGISTRY

    table = Table(title="algorithms")
    for column in ("name", "family", "engines", "writes", "parameters (default)"):
        table.add_column(column)
    for spec in REGISTRY.values():
        params = ", ".join(
            f"{name}={'(required)' if info.is_required() else repr(info.default)}"
            for name, info in spec.params.model_fields.items()
            if name != "tie_kinds"
        )
        table.add_row(
            spec.name,
            spec.family,
            "/".join(e.value for e in spec.engines) + ("" if spec.scopable else " (no scope)"),
            spec.result_property or "(run summary)",
            params + ", tie_kinds=all",
        )
    console.print(table)


def _parse_param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise CrkgError(f"--param {text!r} is not key=value")
    key, raw = text.split("=", 1)
    if key == "tie_kinds":
        return key, [kind.strip().upper() for kind in raw.split(",") if kind.strip()]
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


async def _run_with_progress(
    settings: CrkgSettings,
    name: str,
    params: dict[str, Any],
    engine: str,
    scope: list[str],
    bar: Progress,
) -> Any:
    from algorithms.registry import Engine
    from algorithms.runner import run_algorithm
    from algorithms.scope import Scope

    parsed_scope = Scope.parse(scope)
    task = bar.add_task(name, total=100)

    def on_progress(fraction: float, stage: str) -> None:
        bar.update(task, completed=round(fraction * 100), description=f"{name}: {stage}")

    async with connected_store(settings) as store:
        return await run_algorithm(
            store,
            settings,
            name,
            params,
            engine=Engine(engine),
            scope=parsed_scope,
            on_progress=on_progress,
        )


@algo_app.command("run")
@_friendly_errors
def algo_run(
    name: Annotated[str, typer.Argument(help="algorithm name (see `crkg algo list`)")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="key=value, repeatable")
    ] = None,
    engine: Annotated[str, typer.Option(help="auto, gds or inproc")] = "auto",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="scenario=S | community=louvain:C12 | branch=B | window=2024-01-01..2024-12-31"
            " (repeatable: all must hold)",
        ),
    ] = None,
) -> None:
    """Run one algorithm, write its results to the graph and record an AlgorithmRun."""
    if engine not in ("auto", "gds", "inproc"):
        raise CrkgError(f"--engine must be auto, gds or inproc, not {engine!r}")
    params = dict(_parse_param(p) for p in (param or []))
    columns = (
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console) as bar:
        result = _run(_run_with_progress(_settings(), name, params, engine, scope or [], bar))
    scoped = f" scope {json.dumps(result.scope, ensure_ascii=False)}" if result.scope else ""
    console.print(
        f"{result.name} on {result.engine.value}: {result.customers_written:,} results "
        f"written in {result.seconds:.1f}s (run {result.run_id}){scoped}"
    )
    console.print(json.dumps(result.summary, ensure_ascii=False, default=str), highlight=False)


# --- crkg serve / demo ------------------------------------------------------------------------
@app.command("serve")
@_friendly_errors
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (CRKG_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (CRKG_API_PORT)")] = None,
) -> None:
    """Serve the API: GraphQL at /graphql, /healthz, /readyz, /metrics."""
    _serve(_settings(), host, port)


@app.command("token")
@_friendly_errors
def token(
    role: Annotated[Role, typer.Option(help="what the token may do")],
    subject: Annotated[
        str, typer.Option(help="who it is for; for role rm, the RM's rm_id (their book)")
    ],
    ttl_minutes: Annotated[
        int | None, typer.Option(help="lifetime (default CRKG_AUTH_TOKEN_TTL_MINUTES)", min=1)
    ] = None,
) -> None:
    """Mint a development bearer token (HS256; production tokens come from your IdP)."""
    from api.security.auth import mint_token

    settings = _settings()
    print(mint_token(settings, role=role, subject=subject, ttl_minutes=ttl_minutes))


async def _check_database(settings: CrkgSettings) -> None:
    async with connected_store(settings):
        pass


def _serve(settings: CrkgSettings, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import create_app
    from api.explorer.links import print_explorer_links

    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    _run(_check_database(settings))  # a clear error now, not a lifespan traceback later
    console.print(
        f"crkg API on http://{bind_host}:{bind_port}/graphql  "
        "(/explorer, /healthz, /readyz, /metrics) — Ctrl+C stops"
    )
    print_explorer_links(settings, bind_host, bind_port)
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


async def _largest_book_rm(settings: CrkgSettings) -> str | None:
    """The RM with the largest book, to mint the demo's RM token for."""
    from graph.repositories.views import ViewRepository

    async with connected_store(settings) as store:
        return await ViewRepository(store).largest_book_rm()


async def _demo_examples(settings: CrkgSettings) -> dict[str, dict[str, Any]]:
    """Parameters for the algorithms that need a subject: seeds, an RM and a prospect."""
    from graph.repositories.views import ViewRepository

    async with connected_store(settings) as store:
        views = ViewRepository(store)
        product = await views.most_held_product()
        rm_id = await views.largest_book_rm()
        prospect = None if rm_id is None else await views.prospect_near_book(rm_id)
    examples: dict[str, dict[str, Any]] = {}
    if product is not None:
        examples["personalized_pagerank"] = {"seed_product_id": product}
    if rm_id is not None and prospect is not None:
        examples["referral_paths"] = {"from_rm_id": rm_id, "to_customer_id": prospect}
    return examples


def _print_demo_tokens(settings: CrkgSettings) -> None:
    from api.security.auth import Role, mint_token

    rm_id = _run(_largest_book_rm(settings)) or "RM0001"
    url = f"http://{settings.api_host}:{settings.api_port}/graphql"
    console.print(f"GraphQL at [bold]{url}[/bold]; development tokens, one per role:")
    for role, subject in (
        (Role.RM, rm_id),
        (Role.MARKETER, "marketer-demo"),
        (Role.RISK, "risk-demo"),
        (Role.ADMIN, "admin-demo"),
    ):
        console.print(f"\n[bold]{role.value}[/bold] (subject {subject}):")
        print(mint_token(settings, role=role, subject=subject))  # unwrapped, for copying
    console.print(
        "\ntry: curl -s " + url + " -H 'Content-Type: application/json' "
        "-H 'Authorization: Bearer <token>' -d '{\"query\": \"{ me { subject role } }\"}'",
        soft_wrap=True,
    )


@app.command("demo")
@_friendly_errors
def demo(
    customers: Annotated[int, typer.Option(help="size of the synthetic bank", min=200)] = 10_000,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="keep serving the API at the end")
    ] = True,
) -> None:
    """End to end: Neo4j, schema, a synthetic bank loaded, every algorithm run, the API."""
    from algorithms.registry import REGISTRY
    from loaders.generator import generate_bank

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
    console.rule(f"3. a synthetic bank of {customers:,} customers")
    bank = settings.resolved_data_dir / "demo" / f"bank-{customers}"
    if not (bank / "customers.csv").exists():
        summary = generate_bank(bank, customers=customers, seed=42, bad_row_rate=0.002)
        console.print(f"generated in {summary.elapsed_seconds:.1f}s: {bank}")
    else:
        console.print(f"reusing {bank}")
    console.rule("4. loading it (idempotent: a second demo changes nothing)")
    _load_with_bars(settings, bank, None, None, False)
    console.rule("5. the algorithms")
    table = Table()
    for column in ("algorithm", "engine", "seconds", "summary"):
        table.add_column(column)
    examples = _run(_demo_examples(settings))
    for name, spec in REGISTRY.items():
        try:
            spec.params.model_validate(examples.get(name, {}))
        except ValidationError:  # needs a subject this bank does not have (no RM, no product)
            table.add_row(name, "-", "-", "skipped: no example subject in this bank")
            continue
        with Progress(*_bar_columns(), console=err_console, transient=True) as bar:
            run = _run(_run_with_progress(settings, name, examples.get(name, {}), "auto", [], bar))
        brief = json.dumps(
            {k: v for k, v in run.summary.items() if k != "top"}, ensure_ascii=False, default=str
        )
        table.add_row(name, run.engine.value, f"{run.seconds:.1f}", brief[:120])
    console.print(table)
    console.rule("6. the API")
    _print_demo_tokens(settings)
    if serve_api:
        _serve(settings, None, None)


def main() -> None:  # pragma: no cover - console script entry
    logging.basicConfig(level=logging.WARNING)
    app()
