"""Root fields and mutations of administration: who you are, algorithm runs and jobs, starting
a run, and upserting customers and ties (the file loader's rules, for rows from the API)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.scalars import JSON

from algorithms.registry import REGISTRY, Algorithm, Engine
from api.graphql.admin.types import (
    AlgorithmName,
    AlgorithmRun,
    CustomerInput,
    Job,
    Principal,
    RejectedRow,
    TieInput,
    UpsertResult,
)
from api.graphql.context import context_value
from api.graphql.errors import ClientError
from api.graphql.permissions import guarded_field, guarded_mutation
from api.security.auth import ROLE_PERMISSIONS, Permission
from api.security.requests import shown
from graph.errors import NotFoundError
from graph.model import TieKind
from loaders.pipeline import Loader  # the file loader's rules, for rows from the API

MAX_UPSERT_ROWS = 1_000


@strawberry.field(description="Who you are, as the API sees you")
def me(info: strawberry.Info) -> Principal:
    principal = context_value(info).principal
    return Principal(
        subject=principal.subject,
        role=principal.role.value,
        rm_id=None if principal.rm_id is None else strawberry.ID(principal.rm_id),
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[principal.role]),
    )


@guarded_field(Permission.READ_RUNS, "Recorded algorithm runs, newest first")
async def algorithm_runs(
    info: strawberry.Info,
    name: AlgorithmName | None = None,
    first: int | None = 20,
) -> list[AlgorithmRun] | None:
    context = context_value(info)
    size = context.page_size(first)
    runs = context.repositories.runs
    found = await runs.latest(None if name is None else name.value, size)
    # a run whose process died is failed with the reason when read (only then: a poll of a
    # live run writes nothing)
    now = datetime.now(UTC)
    silent_since = now - timedelta(seconds=3 * context.settings.algorithm_heartbeat_seconds)
    if any(record.abandoned(silent_since) for record in found):
        await runs.fail_abandoned(silent_since, now)
        found = await runs.latest(None if name is None else name.value, size)
    return [AlgorithmRun.from_record(record) for record in found]


@guarded_field(Permission.READ_RUNS, "An algorithm job started with runAlgorithm")
async def job(info: strawberry.Info, id: strawberry.ID) -> Job | None:
    found = await context_value(info).jobs.get(str(id))
    if found is None:
        raise NotFoundError("job", str(id))
    return Job.from_job(found)


# --- mutations -----------------------------------------------------------------------------------
def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def algorithm_parameters(spec: Algorithm, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` in GraphQL's spelling (camelCase; snake_case is accepted too), validated.

    A refusal is one line per bad parameter, in the API's words and spelling.
    """
    parameters: dict[str, Any] = {}
    for given, value in params.items():
        key = _snake_case(given)
        if key in parameters:
            raise ClientError(f"{spec.name}: parameter {_camel_case(key)} is given twice")
        parameters[key] = value
    try:
        spec.params.model_validate(parameters)
    except ValidationError as error:
        known = ", ".join(_camel_case(f) for f in spec.params.model_fields)
        lines = []
        for problem in error.errors():
            field = ".".join(_camel_case(str(p)) for p in problem["loc"]) or "params"
            if problem["type"] == "extra_forbidden":
                lines.append(f"  {field}: not a parameter of {spec.name} (known: {known})")
            else:
                got = (
                    ""
                    if problem["type"] == "missing"
                    else f" (got {shown(repr(problem['input']))})"
                )
                message = problem["msg"].removeprefix("Value error, ")
                lines.append(f"  {field}: {message[:1].lower()}{message[1:]}{got}")
        noun = "parameter" if len(lines) == 1 else "parameters"
        raise ClientError("\n".join([f"{spec.name}: {len(lines)} bad {noun}", *lines])) from None
    return parameters


@guarded_mutation(
    Permission.RUN_ALGORITHMS,
    "Start an algorithm run; poll job(id) until it is done",
)
async def run_algorithm(
    info: strawberry.Info,
    name: AlgorithmName,
    params: JSON | None = None,
    engine: Engine = Engine.AUTO,
) -> Job | None:
    context = context_value(info)
    if params is not None and not isinstance(params, dict):
        raise ClientError("params must be a JSON object of parameter names to values")
    spec = REGISTRY[name.value]
    parameters = algorithm_parameters(spec, params or {})  # refused now, not in the background
    if engine is not Engine.AUTO and engine not in spec.engines:
        raise ClientError(f"{spec.name} has no {engine.value} engine")
    submitted = await context.jobs.submit(spec.name, parameters, engine, context.principal.subject)
    return Job.from_job(submitted)


@guarded_mutation(Permission.WRITE_DATA, "Create or update customers (the customers.csv rules)")
async def upsert_customers(
    info: strawberry.Info, input: list[CustomerInput]
) -> UpsertResult | None:
    records = [{k: v for k, v in vars(row).items() if v is not None} for row in input]
    return await _upsert(info, "customers", records)


@guarded_mutation(Permission.WRITE_DATA, "Create or update social ties (the social.csv rules)")
async def upsert_ties(info: strawberry.Info, input: list[TieInput]) -> UpsertResult | None:
    records = [
        {
            k: (v.value if isinstance(v, TieKind) else v)
            for k, v in vars(row).items()
            if v is not None
        }
        for row in input
    ]
    return await _upsert(info, "social", records)


async def _upsert(
    info: strawberry.Info, file_name: str, records: list[dict[str, Any]]
) -> UpsertResult:
    context = context_value(info)
    if not records:
        raise ClientError("input is empty")
    if len(records) > MAX_UPSERT_ROWS:
        raise ClientError(
            f"input has {len(records)} rows; at most {MAX_UPSERT_ROWS} per request "
            "(use `crkg load` for files)"
        )
    text_records = [{k: _as_text(v) for k, v in r.items()} for r in records]
    loader = Loader(context.store, context.settings)
    outcome = await loader.load_records(
        file_name, text_records, source=f"graphql:{context.principal.subject}"
    )
    return UpsertResult(
        load_run_id=outcome.run_id,
        received=len(records),
        loaded=outcome.report.rows_loaded,
        changed=outcome.report.rows_changed,
        rejected=[
            RejectedRow(
                index=reject.line - 1,
                field=reject.column,
                reason=reject.reason.value,
                message=reject.message,
            )
            for reject in outcome.rejects
        ],
    )


def _as_text(value: Any) -> Any:
    """GraphQL gives typed values; the file rules read text (as CSV cells)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):  # as sent: format(value, "f") wrote 1e100000000 out in full
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value
