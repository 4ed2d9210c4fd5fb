"""``crkg algo list|run``: the registered algorithms, and one run written back with its record.

The algorithms (numpy, igraph) are imported when a command needs them, not when ``crkg``
starts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli import common
from cli.common import console, err_console, friendly_errors
from graph.errors import CrkgError
from graph.settings import CrkgSettings
from graph.store import connected_store

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

app = typer.Typer(help="Graph algorithms: list them, run one.", no_args_is_help=True)


def _default(info: FieldInfo) -> str:
    """A parameter's default as `crkg algo list` shows it (a computed one by its factory:
    ``as_of=today()``)."""
    if info.is_required():
        return "(required)"
    if info.default_factory is not None:
        return f"{getattr(info.default_factory, '__name__', 'computed')}()"
    return repr(info.default)


@app.command("list")
@friendly_errors
def algo_list() -> None:
    """Every registered algorithm with its engines, result property and parameters."""
    from algorithms.registry import REGISTRY

    table = Table(title="algorithms")
    for column in ("name", "family", "engines", "writes", "parameters (default)"):
        table.add_column(column)
    for spec in REGISTRY.values():
        params = ", ".join(
            f"{name}={_default(info)}"
            for name, info in spec.params.model_fields.items()
            if name != "tie_kinds"
        )
        table.add_row(
            spec.name,
            spec.family,
            "/".join(e.value for e in spec.engines) + ("" if spec.scopable else " (no scope)"),
            spec.writes_label,
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


async def run_with_progress(
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


@app.command("run")
@friendly_errors
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
        result = common.run(
            run_with_progress(common.settings(), name, params, engine, scope or [], bar)
        )
    scoped = f" scope {json.dumps(result.scope, ensure_ascii=False)}" if result.scope else ""
    console.print(
        f"{result.name} on {result.engine.value}: {result.customers_written:,} results "
        f"written in {result.seconds:.1f}s (run {result.run_id}){scoped}"
    )
    console.print(json.dumps(result.summary, ensure_ascii=False, default=str), highlight=False)
