"""Run a registered algorithm end to end: validate, pick the engine, compute, write back, record.

Every run leaves an ``AlgorithmRun`` node (name, parameters, engine, scope, graph size,
timings, progress, summary, status) and stamps what it writes with the run's id, so the API
reads results and their provenance and never recomputes them per request.

What a run writes:

- communities: ``Customer.community_<name>`` (ids matched to the previous run by overlap)
  and one ``Community`` node per community of the stored partition, replacing the previous
  run's (see :func:`_community_rows` for the properties);
- scores: ``Customer.score_<name>``; segmentation: ``tier``, ``lifecycle_stage``;
- risk linkages: ``RiskLinkage`` nodes with ``MEMBER_OF`` memberships;
- ``referral_targets``: ``(:Customer)-[:REFERRAL_TARGET]->(:Product)`` per (product, scenario);
- ``referral_paths``: nothing per customer; the run's summary holds the paths.

A scoped run (:class:`~algorithms.scope.Scope`) computes on the scoped customers and the ties
between them and writes their values to ``<property>_scoped`` (each stamped with the run id,
whose ``scope_json`` says what the scope was). The plain property and the Community nodes
always come from a whole-graph run, so the scores the API ranks are comparable.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from algorithms.engines import run_gds, run_inproc, run_risk, tie_graph
from algorithms.graphdata import GraphData
from algorithms.inproc import centrality, referral, risk, segmentation
from algorithms.inproc.community import community_profiles, match_to_previous
from algorithms.paths import warmest_paths_between
from algorithms.registry import (
    REGISTRY,
    AlgorithmParams,
    AlgorithmSpec,
    Engine,
    ExposureParams,
    NetworkValueParams,
    PageRankParams,
    PersonalizedPageRankParams,
    ReferralPathParams,
    ReferralTargetParams,
    ResultKind,
)
from algorithms.scope import Scope
from graph.errors import CrkgError
from graph.queries.analytics import SCOPED_SUFFIX, gds_cypher_projection
from graph.queries.marketing import RiskFlagRule
from graph.repositories.analytics import (
    AnalyticsRepository,
    CustomerScope,
    RiskInputRepository,
    TieColumns,
)
from graph.settings import CrkgSettings
from graph.store import GraphStore, resolve_target

ProgressCallback = Callable[[float, str], None]
"""``on_progress(fraction, stage)``: fraction in [0, 1]; stage e.g. "read", "compute", "write"."""

COMMUNITY_ALGORITHMS = ("wcc", "louvain", "leiden", "label_propagation")


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
    scope: dict[str, Any] = field(default_factory=dict)


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
    """One run's identity, its AlgorithmRun record and its progress reports."""

    repository: AnalyticsRepository
    spec: AlgorithmSpec
    engine: Engine
    parameters: dict[str, Any]
    scope: Scope = field(default_factory=Scope)
    on_progress: ProgressCallback | None = None
    run_id: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)
    _recorded: tuple[float, str] = (0.0, "")
    _recorded_at: float = 0.0

    def __post_init__(self) -> None:
        self.run_id = f"algo-{self.spec.name}-{self.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"

    async def begin(self) -> None:
        await self.repository.record_run(
            self.run_id,
            {
                "name": self.spec.name,
                "engine": self.engine.value,
                "parameters_json": json.dumps(self.parameters),
                "scope_json": self.scope.model_dump_json(exclude_none=True),
                "started_at": self.started,
                "status": "RUNNING",
                "progress": 0.0,
                "stage": "start",
            },
        )
        self._report(0.0, "start")

    def _report(self, fraction: float, stage: str) -> None:
        if self.on_progress is not None:
            self.on_progress(fraction, stage)

    async def progress(self, fraction: float, stage: str) -> None:
        """Tell the caller at once; update the run record on a new stage or every 2 s."""
        fraction = min(max(fraction, 0.0), 1.0)
        self._report(fraction, stage)
        now = time.perf_counter()
        if stage != self._recorded[1] or now - self._recorded_at >= 2.0:
            self._recorded, self._recorded_at = (fraction, stage), now
            await self.repository.record_run(
                self.run_id, {"progress": round(fraction, 4), "stage": stage}
            )

    def batches(self, low: float, high: float, stage: str = "write") -> Callable[[int, int], Any]:
        """An ``on_batch(done, total)`` mapping write batches onto [low, high]."""

        def on_batch(done: int, total: int) -> Any:
            return self.progress(low + (high - low) * done / max(total, 1), stage)

        return on_batch

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
                "stage": "done",
                "node_count": node_count,
                "relationship_count": relationship_count,
                "summary_json": json.dumps(summary, default=str, ensure_ascii=False),
            },
        )
        self._report(1.0, "done")
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
            self.scope.model_dump(mode="json", exclude_none=True),
        )


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
    if engine is Engine.AUTO:
        use_gds = Engine.GDS in spec.engines and (
            await AnalyticsRepository(store).gds_version() is not None
        )
        engine = Engine.GDS if use_gds else Engine.INPROC
    if engine not in spec.engines:
        raise InvalidParametersError(f"{name} has no {engine.value} engine")
    run = _Run(
        AnalyticsRepository(store),
        spec,
        engine,
        parsed.model_dump(mode="json"),
        scoped,
        on_progress,
    )
    await run.begin()
    try:
        if spec.result is ResultKind.SEGMENT:
            return await _run_segmentation(run, parsed)
        if spec.result is ResultKind.LINKAGE:
            return await _run_linkage(run, parsed, store)
        if spec.result is ResultKind.REFERRAL:
            return await _run_referral_targets(run, parsed, RiskFlagRule.from_settings(settings))
        if spec.result is ResultKind.PATHS:
            return await _run_referral_paths(run, parsed, store)
        if spec.name in ("referral_influence", "network_value", "exposure"):
            return await _run_property_score(run, parsed)
        return await _run_per_customer(run, parsed, settings)
    except BaseException as error:
        await run.fail(error)
        if isinstance(error, ValueError):
            raise InvalidParametersError(f"{name}: {error}") from error
        raise


async def _seeds(repository: AnalyticsRepository, params: PersonalizedPageRankParams) -> list[str]:
    if params.seed_product_id is not None:
        seeds = await repository.holders(params.seed_product_id)
        what = f"product {params.seed_product_id!r} has no holders"
    else:
        assert params.seed_scenario_id is not None
        seeds = await repository.scenario_members(params.seed_scenario_id)
        what = f"scenario {params.seed_scenario_id!r} has no participants"
    if not seeds:
        raise ValueError(what)
    return seeds


async def _read_tie_graph(
    run: _Run, params: AlgorithmParams, scope: CustomerScope
) -> tuple[list[str], TieColumns]:
    repository = run.repository
    await run.progress(0.02, "read")
    customers = await repository.customer_ids(scope)
    await run.progress(0.05, "read")
    ties = await repository.tie_columns(
        params.tie_kinds, min_strength=params.min_strength, scope=scope, customers=customers
    )
    return customers, ties


async def _run_per_customer(run: _Run, params: Any, settings: CrkgSettings) -> AlgorithmRunResult:
    """Communities and scores from the tie graph: one value per customer, GDS or in-process."""
    spec, repository = run.spec, run.repository
    scope = run.scope.to_customer_scope()
    seeds: list[str] = []
    if isinstance(params, PersonalizedPageRankParams):
        seeds = await _seeds(repository, params)
        if not run.scope.is_whole_graph:  # seeds outside the scope are not in its graph
            in_scope = set(await repository.customer_ids(scope))
            seeds = [seed for seed in seeds if seed in in_scope]
            if not seeds:
                raise ValueError("no seed customer (holder or participant) inside the scope")
        # the run keeps its seeds: the holders or participants may change later
        await repository.record_run(
            run.run_id, {"seed_count": len(seeds), "seeds_json": json.dumps(seeds)}
        )
    ties: TieColumns | None = None
    customers: list[str] = []
    if run.engine is Engine.GDS:
        projection = None
        if not run.scope.is_whole_graph or params.min_strength > 0:
            query = gds_cypher_projection(
                tuple(params.tie_kinds),
                source=scope.predicate("a"),
                target=scope.predicate("b"),
                window=scope.window(),
            )
            projection = (query, {**scope.parameters(), "min_strength": params.min_strength})
        source_nodes = await repository.gds_node_ids(seeds) if seeds else []
        await run.progress(0.05, "compute")
        values, summary = await asyncio.to_thread(
            run_gds,
            spec,
            params,
            resolve_target(settings),
            cypher_projection=projection,
            source_nodes=source_nodes,
        )
        node_count = summary.get("projected_nodes")
        rel_count = summary.get("projected_relationships")
    else:
        customers, ties = await _read_tie_graph(run, params, scope)
        await run.progress(0.3, "compute")
        values, summary = await asyncio.to_thread(
            run_inproc, spec, params, customers, ties, seeds=seeds
        )
        node_count, rel_count = len(customers), len(ties)
    if seeds:
        summary.setdefault("seeds", len(seeds))  # the engine's count of seeds it used wins
    await run.progress(0.6, "write")
    target = (
        spec.result_property
        if run.scope.is_whole_graph
        else f"{spec.result_property}{SCOPED_SUFFIX}"
    )
    if spec.result is ResultKind.COMMUNITY:
        previous = await repository.read_property(target)
        stable = match_to_previous(
            {k: str(v) for k, v in previous.items()}, {k: int(v) for k, v in values.items()}
        )
        written_values: dict[str, Any] = stable
        summary["communities"] = len(set(stable.values()))
        summary["kept_previous_id"] = sum(1 for k, v in stable.items() if previous.get(k) == v)
        written = await repository.write_property(
            target, written_values, run.run_id, on_batch=run.batches(0.6, 0.85)
        )
        if run.scope.is_whole_graph:  # profiles describe the whole-graph partition only
            await run.progress(0.85, "profile")
            if ties is None:
                customers, ties = await _read_tie_graph(run, params, CustomerScope())
            summary["profiles"] = await _write_profiles(run, customers, ties)
    else:
        written_values = dict(values)
        top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        summary["top"] = [[k, v] for k, v in top]
        written = await repository.write_property(
            target, written_values, run.run_id, on_batch=run.batches(0.6, 0.98)
        )
    return await run.finish(
        written, written_values, summary, node_count=node_count, relationship_count=rel_count
    )


def _profile_parts(
    parts: dict[str, dict[str, int]], size: int, products: list[str]
) -> dict[str, Any]:
    """What a profile reads from tiers, holdings and scenarios (refreshed when they change).

    tier_mix_json ``{tier: members}`` (UNKNOWN: no tier yet); product_penetration_json
    ``{product_id: share of members holding it}`` for every product, zeros included, and
    product_holders_json ``{product_id: members holding it}`` (exact counts);
    dominant_scenarios_json ``[[scenario_id, members], ...]`` (top 3); ``stale`` false.
    """
    held = parts.get("products", {})
    scenarios = sorted(parts.get("scenarios", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    counts = {p: held.get(p, 0) for p in sorted({*products, *held})}
    return {
        "tier_mix_json": json.dumps(dict(sorted(parts.get("tiers", {}).items()))),
        "product_penetration_json": json.dumps(
            {p: round(n / size, 4) if size else 0.0 for p, n in counts.items()}
        ),
        "product_holders_json": json.dumps(counts),
        "dominant_scenarios_json": json.dumps([[s, n] for s, n in scenarios[:3]]),
        "stale": False,
        "stale_reason": None,
    }


def _community_rows(
    algorithm: str,
    graph: GraphData,
    membership: dict[str, str],
    breakdown: dict[str, dict[str, dict[str, int]]],
    products: list[str],
) -> list[dict[str, Any]]:
    """The Community nodes of a stored partition.

    Properties: community_id ``"<algorithm>:<local id>"``, algorithm, local_id (the value in
    ``Customer.community_<algorithm>``), size, internal_ties, density, central_members (top 5
    by ties inside the community), and the parts of :func:`_profile_parts`.
    """
    rows = []
    for profile in community_profiles(graph, membership, top=5):
        local = profile.community_id
        rows.append(
            {
                "community_id": f"{algorithm}:{local}",
                "algorithm": algorithm,
                "local_id": local,
                "size": profile.size,
                "internal_ties": profile.internal_edges,
                "density": profile.density,
                "central_members": list(profile.central_members),
                **_profile_parts(breakdown.get(local, {}), profile.size, products),
            }
        )
    return rows


async def _write_profiles(run: _Run, customers: list[str], ties: TieColumns) -> int:
    repository, prop = run.repository, run.spec.result_property
    membership = {k: str(v) for k, v in (await repository.read_property(prop)).items()}
    breakdown = await repository.community_breakdown(prop)
    products = await repository.product_ids()
    rows = await asyncio.to_thread(
        _community_rows, run.spec.name, tie_graph(customers, ties), membership, breakdown, products
    )
    for row in rows:
        row["profile_run_id"] = run.run_id  # which run computed the profile parts
    await run.progress(0.95, "write profiles")
    return await repository.replace_communities(run.spec.name, rows, run.run_id)


async def _refresh_profiles(run: _Run) -> dict[str, int]:
    """Recompute the tier, product and scenario parts of every stored community profile.

    Called after a segmentation run (tiers changed); a load that changes customers,
    holdings or participation marks the profiles ``stale`` until this or a community run.
    """
    repository = run.repository
    products = await repository.product_ids()
    refreshed: dict[str, int] = {}
    for algorithm in await repository.profiled_algorithms():
        if algorithm not in COMMUNITY_ALGORITHMS:
            continue
        prop = REGISTRY[algorithm].result_property
        breakdown = await repository.community_breakdown(prop)
        sizes: Counter[str] = Counter(
            str(v) for v in (await repository.read_property(prop)).values()
        )
        rows = [
            {
                "community_id": f"{algorithm}:{local}",
                "props": _profile_parts(breakdown.get(local, {}), size, products),
            }
            for local, size in sizes.items()
        ]
        refreshed[algorithm] = await repository.refresh_community_profiles(rows, run.run_id)
    return refreshed


async def _run_property_score(run: _Run, params: Any) -> AlgorithmRunResult:
    """Scores read from other edges or properties: referral cascades, network value, exposure."""
    spec, repository = run.spec, run.repository
    await run.progress(0.02, "read")
    customers = await repository.customer_ids()
    summary: dict[str, Any] = {}
    relationships = 0
    if spec.name == "referral_influence":
        src, dst = await repository.converted_referrals()
        relationships = len(src)
        graph = GraphData.from_edges(zip(src, dst, strict=True), nodes=customers, directed=True)
        await run.progress(0.3, "compute")
        scores = await asyncio.to_thread(referral.referral_influence, graph)
        values: dict[str, Any] = scores.as_dict()
    elif spec.name == "exposure":
        assert isinstance(params, ExposureParams)
        src, dst, amount = await repository.guarantee_columns()
        relationships = len(src)
        graph = GraphData.from_edges(
            zip(src, dst, strict=True), nodes=customers, directed=True, amount=amount
        )
        await run.progress(0.3, "compute")
        values = await asyncio.to_thread(
            risk.exposure_totals,
            graph,
            hops=params.hops,
            decay=params.decay,
            direction=params.direction,
        )
    else:
        assert isinstance(params, NetworkValueParams)
        rows = await repository.segment_inputs()
        aum = {i: a for i, a, _, _ in rows}
        influence = (
            {} if params.recompute_pagerank else await repository.read_property("score_pagerank")
        )
        if not influence:
            summary["pagerank"] = "computed in this run (score_pagerank was not stored)"
            ties = await repository.tie_columns(
                params.tie_kinds, min_strength=params.min_strength, customers=customers
            )
            relationships = len(ties)
            await run.progress(0.3, "compute")
            pagerank_params = PageRankParams(
                tie_kinds=params.tie_kinds, min_strength=params.min_strength, seed=params.seed
            )
            scores_by_id, _ = await asyncio.to_thread(
                run_inproc, REGISTRY["pagerank"], pagerank_params, customers, ties
            )
            influence = dict(scores_by_id)
        else:
            summary["pagerank"] = "read from score_pagerank"
        await run.progress(0.4, "compute")
        values = segmentation.network_value(
            aum, {k: float(v) for k, v in influence.items()}, value_weight=params.value_weight
        )
    top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    summary["top"] = [[k, v] for k, v in top]
    summary["nonzero"] = sum(1 for v in values.values() if v)
    await run.progress(0.6, "write")
    written = await repository.write_property(
        spec.result_property, values, run.run_id, on_batch=run.batches(0.6, 0.98)
    )
    return await run.finish(
        written, values, summary, node_count=len(customers), relationship_count=relationships
    )


def _target_row(target: referral.ScoredTarget, scenario: str) -> dict[str, Any]:
    return {
        "customer_id": target.candidate,
        "props": {
            "scenario_id": scenario,
            "rank": target.rank,
            "score": target.score,
            "adamic_adar": target.adamic_adar,
            "common_neighbors": target.common_neighbors,
            "resource_allocation": target.resource_allocation,
            "adoption_rate": target.adoption_rate,
            "tie_strength": target.tie_strength,
            "introducer_influence": target.introducer_influence,
            # the ids alone, so a read can screen introducers again without parsing JSON
            "introducer_ids": [i.node_id for i in target.introducers],
            "introducers_json": json.dumps(
                [
                    {
                        "customer_id": i.node_id,
                        "score": i.score,
                        "common_neighbors": i.common_neighbors,
                        "path": list(i.path),
                    }
                    for i in target.introducers
                ],
                ensure_ascii=False,
            ),
        },
    }


async def _run_referral_targets(
    run: _Run, params: ReferralTargetParams, rule: RiskFlagRule
) -> AlgorithmRunResult:
    """REFERRAL_TARGET rows per product (and scenario), replacing the previous ones.

    Targets: consented, not risk-flagged (``rule``) and eligible for the product (its
    eligibility rules on today's date); introducers: consented and not risk-flagged.
    """
    repository = run.repository
    as_of = datetime.now(UTC).date()
    scope = run.scope.to_customer_scope()
    products = await repository.product_ids(params.product_id)
    if params.product_id is not None and not products:
        raise ValueError(f"no product {params.product_id!r}")
    customers, ties = await _read_tie_graph(run, params, scope)
    graph = await asyncio.to_thread(tie_graph, customers, ties)
    in_scope = set(customers)
    contactable = set(await repository.contactable(rule)) & in_scope
    members: set[str] | None = None
    if params.scenario_id is not None:
        members = set(await repository.scenario_members(params.scenario_id))
        contactable &= members
    influence = {k: float(v) for k, v in (await repository.read_property("score_pagerank")).items()}
    if not influence:
        scores = await asyncio.to_thread(centrality.pagerank, graph)
        influence = scores.as_dict()
    scenario_key = params.scenario_id or "*"
    summary: dict[str, Any] = {
        "scenario_id": scenario_key,
        "contactable": len(contactable),
        "risk_flag_rule": rule.describe(),
        "eligibility_as_of": as_of.isoformat(),
        "products": {},
    }
    values: dict[str, Any] = {}
    written = 0
    for position, product in enumerate(products):
        holders = [
            h
            for h in await repository.holders(product)
            if h in in_scope and (members is None or h in members)
        ]
        eligible = set(await repository.eligible_targets(product, rule, as_of)) & contactable
        targets = await asyncio.to_thread(
            functools.partial(
                referral.score_referral_targets,
                graph,
                holders,
                eligible=eligible,
                influence=influence,
                method=params.method,
                top_n=params.top_n,
                top_introducers=params.top_introducers,
                introducers=contactable,
            )
        )
        rows = [_target_row(t, scenario_key) for t in targets]
        written += await repository.replace_referral_targets(
            product, scenario_key, rows, run.run_id
        )
        values[product] = [t.candidate for t in targets]
        summary["products"][product] = {
            "holders": len(holders),
            "eligible": len(eligible),
            "targets": len(targets),
            "top": [[t.candidate, round(t.score, 4)] for t in targets[:3]],
        }
        await run.progress(0.3 + 0.68 * (position + 1) / len(products), "compute and write")
    return await run.finish(
        written, values, summary, node_count=len(customers), relationship_count=len(ties)
    )


async def _run_referral_paths(
    run: _Run, params: ReferralPathParams, store: GraphStore
) -> AlgorithmRunResult:
    """Warmest paths from an RM's book to a prospect; kept in the run summary only."""
    sources = await run.repository.rm_book(params.from_rm_id)
    if not sources:
        raise ValueError(f"relationship manager {params.from_rm_id!r} manages no customers")
    await run.progress(0.1, "search")
    paths = await warmest_paths_between(
        store,
        sources,
        params.to_customer_id,
        k=params.k,
        max_hops=params.max_hops,
        tie_kinds=params.tie_kinds,
        min_strength=params.min_strength,
    )
    found = [{"nodes": list(p.nodes), "strength": p.strength, "hops": p.hops} for p in paths]
    summary = {
        "from_rm_id": params.from_rm_id,
        "to_customer_id": params.to_customer_id,
        "book_size": len(sources),
        "in_book": params.to_customer_id in set(sources),
        "paths": found,
    }
    values = {str(i): p["nodes"] for i, p in enumerate(found)}
    return await run.finish(0, values, summary, node_count=len(sources))


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
    extra: dict[str, Any] = {}
    if kind == "CONTROL_GROUP" and edges:  # a group's exposure: its loans and guarantees out
        extra = {
            "loan_balances": await inputs.loan_balances(),
            "guarantees": await inputs.guarantees(),
        }
    await run.progress(0.3, "compute")
    linkages = (
        await asyncio.to_thread(functools.partial(run_risk, run.spec, params, edges, **extra))
        if edges
        else []
    )
    await run.progress(0.6, "write")
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
    await run.progress(0.02, "read")
    rows = await repository.segment_inputs()
    await run.progress(0.3, "compute")
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
    await run.progress(0.4, "write")
    await repository.write_property(
        "tier", {k: v.value for k, v in tiers.items()}, run.run_id, on_batch=run.batches(0.4, 0.7)
    )
    await repository.write_property(
        "lifecycle_stage",
        {k: v.value for k, v in stages.items()},
        run.run_id,
        on_batch=run.batches(0.7, 0.98),
    )
    summary = {
        "reference_date": reference.isoformat(),
        "tiers": dict(sorted(Counter(v.value for v in tiers.values()).items())),
        "stages": dict(sorted(Counter(v.value for v in stages.values()).items())),
        # profiles count members per tier: recompute them now that the tiers changed
        "profiles_refreshed": await _refresh_profiles(run),
    }
    values = {k: [tiers.get(k), stages.get(k)] for k in aum}
    return await run.finish(len(rows), values, summary, node_count=len(rows))
