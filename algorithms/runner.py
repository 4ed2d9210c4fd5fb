"""Run a registered algorithm end to end: validate, pick the engine, compute, write back, record.

Every run leaves an ``AlgorithmRun`` node (name, parameters, engine, graph size, timings,
summary, status) and stamps the property it writes with the run's id, so the API reads
results and their provenance and never recomputes them per request.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from algorithms.engines import run_gds, run_inproc, run_risk
from algorithms.inproc import segmentation
from algorithms.inproc.community import match_to_previous
from algorithms.registry import REGISTRY, AlgorithmSpec, Engine, ResultKind
from graph.errors import CrkgError
from graph.repositories.analytics import AnalyticsRepository, RiskInputRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, resolve_target


class UnknownAlgorithmError(CrkgError):
    exit_code = 2

    def __init__(self, name: str) -> None:
        super().__init__(
            f"no algorithm named {name!r}",
            hint=f"known: {', '.join(sorted(REGISTRY))} (see `crkg algo list`)",
        )


class InvalidParametersError(CrkgError):
    exit_code = 2


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


def _parse(spec: AlgorithmSpec, params: Mapping[str, Any]) -> Any:
    try:
        return spec.params.model_validate(dict(params))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidParametersError(f"{spec.name}: {problems}") from None


@dataclass
class _Run:
    """One run's identity and its AlgorithmRun record."""

    repository: AnalyticsRepository
    spec: AlgorithmSpec
    engine: Engine
    parameters: dict[str, Any]
    run_id: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.run_id = f"algo-{self.spec.name}-{self.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"

    async def begin(self) -> None:
        await self.repository.record_run(
            self.run_id,
            {
                "name": self.spec.name,
                "engine": self.engine.value,
                "parameters_json": json.dumps(self.parameters),
                "scope_json": "{}",
                "started_at": self.started,
                "status": "RUNNING",
                "progress": 0.0,
            },
        )

    async def progress(self, fraction: float) -> None:
        await self.repository.record_run(self.run_id, {"progress": fraction})

    async def fail(self, error: BaseException) -> None:
        await self.repository.record_run(
            self.run_id,
            {
                "status": "FAILED",
                "finished_at": datetime.now(UTC),
                "summary_json": json.dumps({"error": str(error)[:500]}),
            },
        )

    async def finish(
        self,
        written: int,
        values: dict[str, Any],
        summary: dict[str, Any],
        *,
        node_count: int | None = None,
        relationship_count: int | None = None,
    ) -> AlgorithmRunResult:
        finished = datetime.now(UTC)
        await self.repository.record_run(
            self.run_id,
            {
                "status": "SUCCEEDED",
                "finished_at": finished,
                "progress": 1.0,
                "node_count": node_count,
                "relationship_count": relationship_count,
                "summary_json": json.dumps(summary, default=str),
            },
        )
        return AlgorithmRunResult(
            self.run_id,
            self.spec.name,
            self.engine,
            self.parameters,
            self.started,
            finished,
            round(time.perf_counter() - self.clock, 3),
            written,
            values,
            summary,
        )


async def run_algorithm(
    store: GraphStore,
    settings: CrkgSettings,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    engine: Engine = Engine.AUTO,
) -> AlgorithmRunResult:
    spec = REGISTRY.get(name)
    if spec is None:
        raise UnknownAlgorithmError(name)
    parsed = _parse(spec, params or {})
    if engine is Engine.AUTO:
        use_gds = Engine.GDS in spec.engines and (
            await AnalyticsRepository(store).gds_version() is not None
        )
        engine = Engine.GDS if use_gds else Engine.INPROC
    if engine not in spec.engines:
        raise InvalidParametersError(f"{name} has no {engine.value} engine")
    run = _Run(AnalyticsRepository(store), spec, engine, parsed.model_dump(mode="json"))
    await run.begin()
    try:
        if spec.result is ResultKind.SEGMENT:
            return await _run_segmentation(run, parsed)
        if spec.result is ResultKind.LINKAGE:
            return await _run_linkage(run, parsed, store)
        return await _run_per_customer(run, parsed, settings)
    except BaseException as error:
        await run.fail(error)
        if isinstance(error, ValueError):
            raise InvalidParametersError(f"{name}: {error}") from error
        raise


async def _run_per_customer(run: _Run, params: Any, settings: CrkgSettings) -> AlgorithmRunResult:
    """Communities and scores: one value per customer, on GDS or in-process."""
    spec, repository = run.spec, run.repository
    if run.engine is Engine.GDS:
        values, summary = await asyncio.to_thread(run_gds, spec, params, resolve_target(settings))
        node_count = summary.get("projected_nodes")
        rel_count = summary.get("projected_relationships")
    else:
        customers = await repository.customer_ids()
        ties = await repository.ties(params.tie_kinds, min_strength=params.min_strength)
        values, summary = await asyncio.to_thread(run_inproc, spec, params, customers, ties)
        node_count, rel_count = len(customers), len(ties)
    if spec.result is ResultKind.COMMUNITY:
        previous = await repository.read_property(spec.result_property)
        stable = match_to_previous(
            {k: str(v) for k, v in previous.items()}, {k: int(v) for k, v in values.items()}
        )
        written_values: dict[str, Any] = stable
        summary["communities"] = len(set(stable.values()))
        summary["kept_previous_id"] = sum(1 for k, v in stable.items() if previous.get(k) == v)
    else:
        written_values = dict(values)
        top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        summary["top"] = [[k, v] for k, v in top]
    await run.progress(0.5)
    written = await repository.write_property(spec.result_property, written_values, run.run_id)
    return await run.finish(
        written, written_values, summary, node_count=node_count, relationship_count=rel_count
    )


async def _run_linkage(run: _Run, params: Any, store: GraphStore) -> AlgorithmRunResult:
    """Risk structures: RiskLinkage nodes replacing the previous run's of the same kind."""
    inputs = RiskInputRepository(store)
    kind = run.spec.result_property
    edges: list[Any]
    if kind == "GUARANTEE_CIRCLE":
        edges = list(await inputs.guarantees())
    elif kind == "IDENTIFIER_RING":
        edges = list(await inputs.identifier_uses())
    elif kind == "FUND_CYCLE":
        edges = list(await inputs.transfers())
    else:
        edges = list(await inputs.shareholdings())
    linkages = await asyncio.to_thread(run_risk, run.spec, params, edges) if edges else []
    await run.progress(0.5)
    await inputs.replace_linkages(kind, linkages, run.run_id)
    summary = {
        "found": len(linkages),
        "sizes": dict(sorted(Counter(len(x["members"]) for x in linkages).items())),
    }
    values = {x["linkage_id"]: [m["customer_id"] for m in x["members"]] for x in linkages}
    return await run.finish(len(linkages), values, summary, relationship_count=len(edges))


async def _run_segmentation(run: _Run, params: Any) -> AlgorithmRunResult:
    """Value tier and lifecycle stage per customer."""
    repository = run.repository
    rows = await repository.segment_inputs()
    aum = {i: a for i, a, _, _ in rows}
    onboarded = {i: o for i, _, o, _ in rows}
    active = {i: last for i, _, _, last in rows}
    reference = params.reference_date or max(
        (d for d in active.values() if d is not None), default=datetime.now(UTC).date()
    )
    tiers = segmentation.value_tiers(
        aum, thresholds=params.tier_thresholds, quantiles=params.tier_quantiles
    )
    stages = segmentation.lifecycle_stages(
        onboarded,
        active,
        reference_date=reference,
        new_days=params.new_days,
        dormant_days=params.dormant_days,
    )
    await repository.write_property("tier", {k: v.value for k, v in tiers.items()}, run.run_id)
    await repository.write_property(
        "lifecycle_stage", {k: v.value for k, v in stages.items()}, run.run_id
    )
    summary = {
        "reference_date": reference.isoformat(),
        "tiers": dict(sorted(Counter(v.value for v in tiers.values()).items())),
        "stages": dict(sorted(Counter(v.value for v in stages.values()).items())),
    }
    values = {k: [tiers.get(k), stages.get(k)] for k in aum}
    return await run.finish(len(rows), values, summary, node_count=len(rows))
