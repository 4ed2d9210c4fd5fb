"""Run a registered algorithm end to end: validate, pick the engine, compute, write back, record.

The runner orchestrates and knows no algorithm by name: the registry says which parameters,
which engines and what a run writes. Every run leaves an ``AlgorithmRun`` node (name,
parameters, engine, scope, graph size, timings, progress, summary, status) and stamps what it
writes with the run's id, so the API reads results and their provenance and never recomputes
them per request.

What a run writes (the registry entry's ``writes``):

- a community property: ``Customer.community_<name>`` (ids matched to the previous run by
  overlap) and, after a whole-graph run, one ``Community`` node per community
  (``algorithms.communities``);
- a score or segment property: ``Customer.<property>``, each value stamped with the run;
- a RiskLinkage kind: ``RiskLinkage`` nodes with ``MEMBER_OF`` memberships, replacing the
  previous run's of that kind;
- ``REFERRAL_TARGET``: written per (product, scenario) by the engine itself;
- nothing: the run's summary holds the result (referral paths).

A customer property is never served half-written: the run stages its values beside the
property in batches and publishes them in one transaction (every property a run writes, and
the run's ``published`` list, at once), so a reader sees the previous run's values or this
one's. A run stamps ``heartbeat_at`` while its process lives; the next run (and a read of the
runs) fails one that fell silent, with the reason and what, if anything, it had published.

A scoped run (:class:`~algorithms.scope.Scope`) computes on the scoped customers and the ties
between them and writes their values to ``<property>_scoped`` (each stamped with the run id,
whose ``scope_json`` says what the scope was). The plain property and the Community nodes
always come from a whole-graph run, so the scores the API ranks are comparable.

Errors keep their type: a parameter, scope or engine the algorithm cannot take is an
:class:`~algorithms.params.InvalidParametersError`; anything unexpected propagates as itself
(the edges turn it into an internal error with a reference).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from algorithms.communities import refresh_profiles, write_profiles
from algorithms.context import Computed, ProgressCallback, RunContext
from algorithms.inproc.community import match_to_previous
from algorithms.params import InvalidParametersError
from algorithms.registry import REGISTRY, Algorithm, Engine
from algorithms.scope import Scope
from graph.errors import CrkgError
from graph.model import RiskLinkageKind
from graph.money import MINOR_SUFFIX, to_decimal
from graph.repositories.projections import CustomerScope
from graph.results import ResultProperty
from graph.settings import CrkgSettings
from graph.store import GraphStore

__all__ = [
    "AlgorithmRunResult",
    "InvalidParametersError",
    "ProgressCallback",
    "UnknownAlgorithmError",
    "run_algorithm",
]


class UnknownAlgorithmError(CrkgError):
    exit_code = 2

    def __init__(self, name: str) -> None:
        super().__init__(
            f"no algorithm named {name!r}",
            hint=f"known: {', '.join(sorted(REGISTRY))} (see `crkg algo list`)",
        )


@dataclass
class AlgorithmRunResult:
    run_id: str
    name: str
    engine: Engine
    parameters: dict[str, Any]
    started_at: datetime
    finished_at: datetime
    seconds: float
    customers_written: int
    values: dict[str, Any] = field(repr=False)
    summary: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] = field(default_factory=dict)


def _parse(spec: Algorithm, params: Mapping[str, Any]) -> Any:
    try:
        return spec.params.model_validate(dict(params))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidParametersError(f"{spec.name}: {problems}") from None


def _scope(scope: Scope | Mapping[str, Any] | None) -> Scope:
    if scope is None:
        return Scope()
    if isinstance(scope, Scope):
        return scope
    try:
        return Scope.model_validate(dict(scope))
    except ValidationError as error:
        problems = "; ".join(str(e["msg"]) for e in error.errors())
        raise InvalidParametersError(f"scope: {problems}") from None


async def _engine(store: GraphStore, spec: Algorithm, engine: Engine) -> Engine:
    if engine is Engine.AUTO:
        from graph.repositories.projections import ProjectionRepository

        use_gds = Engine.GDS in spec.engines and (
            await ProjectionRepository(store).gds_version() is not None
        )
        engine = Engine.GDS if use_gds else Engine.INPROC
    if engine not in spec.engines:
        raise InvalidParametersError(f"{spec.name} has no {engine.value} engine")
    return engine


async def run_algorithm(
    store: GraphStore,
    settings: CrkgSettings,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    engine: Engine = Engine.AUTO,
    scope: Scope | Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> AlgorithmRunResult:
    """Run the registered algorithm ``name`` and write its results back.

    ``params`` are validated against the algorithm's parameter model; ``engine`` AUTO uses
    GDS when the algorithm and the server have it; ``scope`` (a :class:`Scope` or its
    fields as a mapping) restricts customers and ties; ``on_progress(fraction, stage)`` is
    called as the run reads, computes and writes (also kept in ``AlgorithmRun.progress``
    and ``AlgorithmRun.stage``).
    """
    spec = REGISTRY.get(name)
    if spec is None:
        raise UnknownAlgorithmError(name)
    parsed = _parse(spec, params or {})
    scoped = _scope(scope)
    if not scoped.is_whole_graph and not spec.scopable:
        raise InvalidParametersError(f"{name} runs on the whole graph only (no --scope)")
    chosen = await _engine(store, spec, engine)
    run = RunContext(
        store, settings, spec, chosen, parsed.model_dump(mode="json"), scoped, on_progress
    )
    await run.begin()
    try:
        computed = await spec.compute(chosen, run, parsed)
        if computed.write_from is not None:
            await run.progress(computed.write_from, "write")
        written = await _write(run, parsed, computed)
        if spec.refreshes_community_profiles:
            # profiles count members per tier: recompute them now that the tiers changed
            computed.summary["profiles_refreshed"] = await refresh_profiles(run)
    except BaseException as error:
        await run.fail(error)
        raise
    finished = await run.succeed(
        computed.summary,
        node_count=computed.node_count,
        relationship_count=computed.relationship_count,
    )
    return AlgorithmRunResult(
        run.run_id,
        spec.name,
        chosen,
        run.parameters,
        run.started,
        finished,
        run.seconds,
        written,
        computed.values,
        computed.summary,
        scoped.model_dump(mode="json", exclude_none=True),
    )


async def _write(run: RunContext, params: Any, computed: Computed) -> int:
    """Write what the engine computed, as the registry entry declares; the count written."""
    writes = run.spec.writes
    if isinstance(writes, RiskLinkageKind):
        linkages = computed.linkages or []
        await run.linkages.replace(writes.value, linkages, run.run_id)
        return len(linkages)
    if isinstance(writes, ResultProperty):
        return await _write_property(run, params, computed, writes)
    if isinstance(writes, tuple):
        properties = computed.properties or {}
        low = computed.write_from or 0.6
        step = (0.98 - low) / max(len(writes), 1)
        staged: dict[str, int] = {}
        for position, prop in enumerate(writes):
            staged[prop.value] = await run.customers.stage_result(
                prop.value,
                properties.get(prop.value, {}),
                run.run_id,
                on_batch=run.batches(low + position * step, low + (position + 1) * step),
            )
        await run.customers.publish_results(staged, run.run_id)  # all of them, or none
    return computed.written or 0


async def _write_property(
    run: RunContext, params: Any, computed: Computed, prop: ResultProperty
) -> int:
    """One value per customer; community ids kept stable, and profiled after a whole run."""
    whole = run.scope.is_whole_graph
    low = computed.write_from or 0.6
    target = prop.written_by(whole_graph=whole)
    values: dict[str, Any] = computed.values
    summary = computed.summary
    if not prop.is_community:
        top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        summary["top"] = [[k, v] for k, v in top]
        if prop.value.endswith(MINOR_SUFFIX):  # money: exact decimals in currency units
            summary["top"] = [[k, str(to_decimal(int(v)))] for k, v in top]
            summary["top_unit"] = run.settings.currency
        return await run.customers.write_result(
            target, values, run.run_id, on_batch=run.batches(low, 0.98)
        )
    previous = await run.customers.read_result(target)
    stable = match_to_previous(
        {k: str(v) for k, v in previous.items()}, {k: int(v) for k, v in values.items()}
    )
    computed.values = stable
    summary["communities"] = len(set(stable.values()))
    summary["kept_previous_id"] = sum(1 for k, v in stable.items() if previous.get(k) == v)
    written = await run.customers.write_result(
        target, stable, run.run_id, on_batch=run.batches(low, 0.85)
    )
    if whole:  # profiles describe the whole-graph partition only
        await run.progress(0.85, "profile")
        ties = computed.ties or await run.read_tie_graph(params, CustomerScope())
        summary["profiles"] = await write_profiles(run, prop.value, *ties)
    return written
