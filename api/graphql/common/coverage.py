"""What a stored answer covers, and the refusal of a question beyond it.

Every answer read from a stored algorithm run says which run it came from and what that run
searched (:class:`RunCoverage`, built one way: :func:`run_coverage` from the run's id). A
question the stored run did not search (circles longer than its ``max_length``, rings smaller
than its ``min_size``, an algorithm that never ran) is not an empty or partial finding but an
unknown: :func:`stored_run` and :func:`require_covered` refuse it as ``NOT_COMPUTED``, naming
the run and the bound in the message and in ``extensions.coverage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from algorithms.registry import REGISTRY
from api.graphql.admin.types import AlgorithmRun
from api.graphql.context import context_value
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.errors import NotComputedError
from graph.read_models import AlgorithmRunRecord

RUNS_SEARCHED = 20  # recent runs looked through for the succeeded one whose answer is stored

# the parameters of each algorithm that bound what its stored answer can hold (beyond them
# nothing was searched); every run's full parameters are in RunCoverage.parameters
BOUNDS: Mapping[str, tuple[str, ...]] = {
    "guarantee_circles": ("max_length", "as_of"),
    "fund_cycles": ("max_length", "window_days"),
    "identifier_rings": ("min_size", "max_sharing"),
    "control_groups": ("threshold_pct", "as_of"),
    "exposure": ("hops", "decay", "direction", "as_of"),
    "referral_targets": ("product_id", "scenario_id", "top_n", "method"),
    "personalized_pagerank": ("seed_product_id", "seed_scenario_id"),
    "betweenness": ("samples",),
    "louvain": ("resolution",),
    "leiden": ("resolution",),
}
TIE_BOUNDS = ("tie_kinds", "min_strength")  # which ties made the graph, for every algorithm
COVERAGE = (
    "the stored run this answer was read from and what it covered (the same for every row "
    "of one answer); null for a row stored before runs were recorded"
)
# where a run records the date its data was judged on, first found wins
_AS_OF_PARAMETERS = ("as_of", "reference_date")
_AS_OF_SUMMARY = ("eligibility_as_of", "reference_date", "as_of")


def bounds_of(record: AlgorithmRunRecord) -> dict[str, Any]:
    """The run's parameters that bound what it found (those it recorded)."""
    parameters = record.parameters or {}
    names = (*BOUNDS.get(record.name, ()), *TIE_BOUNDS)
    return {name: parameters[name] for name in names if name in parameters}


def _as_of(record: AlgorithmRunRecord) -> date | None:
    for source, keys in ((record.parameters, _AS_OF_PARAMETERS), (record.summary, _AS_OF_SUMMARY)):
        for key in keys:
            value = (source or {}).get(key)
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value[:10])
                except ValueError:
                    continue
    return None


def described(record: AlgorithmRunRecord) -> str:
    """What the run covered, in words (``RunCoverage.description``, and the notes of an empty
    answer)."""
    as_of = _as_of(record)
    finished = record.finished_at
    when = "" if finished is None else f", finished {finished.isoformat(timespec='seconds')}"
    where = "the whole graph" if not record.scope else f"the scope {record.scope}"
    bounds = ", ".join(f"{k} {v}" for k, v in bounds_of(record).items() if k not in TIE_BOUNDS)
    text = f"{record.name} run {record.run_id}{when}, over {where}"
    if bounds:
        text += f"; searched with {bounds}"
    if as_of is not None and "as_of" not in bounds_of(record):  # said once
        text += f"; data as of {as_of.isoformat()}"
    return text


@strawberry.type(
    description="What a stored answer covers: the algorithm run it was read from, the "
    "parameters that bound what that run searched, and when. A question beyond them is "
    "refused (NOT_COMPUTED, with extensions.coverage), never answered partly"
)
class RunCoverage:
    run_id: strawberry.ID
    algorithm: str
    engine: str | None
    finished_at: datetime | None
    as_of: date | None = strawberry.field(
        description="the date the run judged its data on (its as_of, reference or "
        "eligibility date); null when the run records none"
    )
    whole_graph: bool = strawberry.field(description="the run read the whole graph (no scope)")
    scope: JSON | None = strawberry.field(description="the run's scope; {} for the whole graph")
    bounds: JSON = strawberry.field(
        description="the run's parameters that bound what it found, e.g. {max_length: 6} for "
        "guarantee circles: the answer holds nothing beyond them"
    )
    parameters: JSON | None = strawberry.field(description="every parameter the run used")
    description: str = strawberry.field(description="what the run covered, in words")
    record: strawberry.Private[AlgorithmRunRecord]

    @classmethod
    def from_record(cls, record: AlgorithmRunRecord) -> RunCoverage:
        as_of = _as_of(record)
        return cls(
            run_id=strawberry.ID(record.run_id),
            algorithm=record.name,
            engine=record.engine,
            finished_at=record.finished_at,
            as_of=as_of,
            whole_graph=not record.scope,
            scope=cast(JSON, record.scope or {}),
            bounds=cast(JSON, bounds_of(record)),
            parameters=cast(JSON, record.parameters),
            description=described(record),
            record=record,
        )

    @guarded_field(
        Permission.READ_RUNS,
        "the run's full record (summary, graph size, timings): roles that read runs",
    )
    def run(self) -> AlgorithmRun | None:
        return AlgorithmRun.from_record(self.record)


async def run_coverage(info: strawberry.Info, run_id: str | None) -> RunCoverage | None:
    """The coverage of the run ``run_id`` (batched per request); null for no run id."""
    if run_id is None:
        return None
    record = await context_value(info).loaders.run.load(run_id)
    return None if record is None else RunCoverage.from_record(record)


class BeyondCoverageError(NotComputedError):
    """A question beyond what the stored run searched: ``NOT_COMPUTED``, and
    ``extensions.coverage`` names the run, the parameter, what it covered and what was asked."""

    def __init__(
        self,
        asked: str,
        run: AlgorithmRunRecord,
        parameter: str,
        covered: Any,
        *,
        argument: str,
        value: Any,
        needed: str,
    ) -> None:
        super().__init__(
            f"{asked} asks beyond the stored run {run.run_id} ({parameter} {covered}); run "
            f"the algorithm with {parameter} {needed} {value}",
            hint=f"run `crkg algo run {run.name} -p {parameter}={value}` (or the runAlgorithm "
            "mutation with it)",
        )
        self.details: dict[str, Any] = {
            "coverage": {
                "runId": run.run_id,
                "algorithm": run.name,
                "parameter": parameter,
                "covered": covered,
                "argument": argument,
                "asked": value,
            }
        }


async def stored_run(
    info: strawberry.Info, name: str, *, whole_graph: bool = False
) -> AlgorithmRunRecord:
    """The newest succeeded ``name`` run (whose answer is stored; ``whole_graph``: of the
    runs without a scope, which alone write what the root lists read); NOT_COMPUTED without
    one."""
    for run in await context_value(info).repositories.runs.latest(name, RUNS_SEARCHED):
        if run.status == "SUCCEEDED" and not (whole_graph and run.scope):
            return run
    which = "whole-graph " if whole_graph else ""
    raise NotComputedError(
        f"no {which}{name} run has been stored",
        hint=f"run `crkg algo run {name}` (or the runAlgorithm mutation)",
    )


def writer_of(prop: str) -> str | None:
    """The algorithm whose runs write the result property ``prop`` (one per property)."""
    for spec in REGISTRY.values():
        writes = spec.writes if isinstance(spec.writes, tuple) else (spec.writes,)
        if any(str(w) == prop for w in writes if w is not None):
            return spec.name
    return None


async def require_covered(
    info: strawberry.Info,
    name: str,
    parameter: str,
    default: Any,
    *,
    asked: str,
    argument: str,
    value: Any,
    at_least: bool = False,
) -> AlgorithmRunRecord:
    """The stored ``name`` run, if its ``parameter`` covers the question ``asked`` (whose
    ``argument`` has ``value``): the value must be at most the run's, or, ``at_least``, no
    less; else NOT_COMPUTED naming the run and the bound."""
    run = await stored_run(info, name)
    covered = (run.parameters or {}).get(parameter, default)
    if (value < covered) if at_least else (value > covered):
        raise BeyondCoverageError(
            asked,
            run,
            parameter,
            covered,
            argument=argument,
            value=value,
            needed="≤" if at_least else "≥",
        )
    return run


def note_if_empty(info: strawberry.Info, run: AlgorithmRunRecord, found: object) -> None:
    """An empty answer still names the run it was read from (``extensions.notes``)."""
    if not found:
        context_value(info).note(info, f"none found by {described(run)}")


async def known_if_empty(
    info: strawberry.Info, name: str, found: object, *, whole_graph: bool = False
) -> None:
    """An empty answer is NOT_COMPUTED unless a ``name`` run stored it, and names that run.

    Rows read from a store name their own runs (``coverage``): only an empty answer needs the
    run looked up, so a full answer costs no round trip more.
    """
    if not found:
        note_if_empty(info, await stored_run(info, name, whole_graph=whole_graph), found)
