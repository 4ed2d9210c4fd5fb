"""What every command shares: the consoles, settings, errors as one message and an exit code."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import neo4j.exceptions as neo4j_errors
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from graph.errors import CrkgError, DatabaseError
from graph.settings import CrkgSettings, get_settings

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
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
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as error:
            # anything the database or the driver raised that crkg did not translate itself
            # (e.g. inside the GDS client): its first line, and where to look next
            err_console.print(
                f"[bold red]error:[/] {_database_message(error)}", highlight=False, soft_wrap=True
            )
            err_console.print(f"[yellow]hint:[/] {_DATABASE_HINT}", highlight=False, soft_wrap=True)
            raise typer.Exit(DatabaseError.exit_code) from None
        except ValidationError as error:
            err_console.print("[bold red]error:[/] invalid CRKG_* settings:", highlight=False)
            for problem in error.errors():
                where = ".".join(str(part) for part in problem["loc"]) or "settings"
                err_console.print(f"  CRKG_{where.upper()}: {problem['msg']}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


_DATABASE_HINT = (
    "check that Neo4j runs (`crkg neo4j status`) and its log (the `log` line there); "
    "a refused procedure call names what it refused"
)


def _database_message(error: Exception) -> str:
    """One line: the database's code and the first line of its message."""
    if isinstance(error, neo4j_errors.Neo4jError):
        text = (error.message or str(error) or type(error).__name__).strip()
        first = text.splitlines()[0] if text else type(error).__name__
        return f"the database refused the request ({error.code}): {first}"
    text = str(error).strip() or type(error).__name__
    return f"the database connection failed ({type(error).__name__}): {text.splitlines()[0]}"


def settings() -> CrkgSettings:
    return get_settings()


def run(coroutine: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coroutine)


def say(message: str) -> None:
    err_console.print(f"[dim]·[/] {message}", highlight=False)


def bar_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
