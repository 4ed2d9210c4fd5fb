"""Influence scores: PageRank (plain and personalised), degree and betweenness on both engines,
and the referral cascade below each customer (in-process, from REFERRED edges).

Stored PageRank scores sum to 1 on both engines (GDS does not normalise; the GDS stream is
normalised here).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any, TypedDict

from algorithms.context import Computed, RunContext
from algorithms.engines import NodeValues
from algorithms.graphdata import GraphData
from algorithms.inproc import centrality, referral
from algorithms.params import (
    AlgorithmParams,
    BetweennessParams,
    InvalidParametersError,
    PageRankParams,
    PersonalizedPageRankParams,
)

GDS_WEIGHT = "strength"


class ScoreSummary(TypedDict, total=False):
    top: list[list[Any]]  # the five highest [customer id, score]; money: [id, "decimal"]
    top_unit: str  # money scores (exposure): the currency the top amounts are in
    nonzero: int  # customers with a score above zero (scores read from other edges)
    seeds: int  # personalised PageRank: the seeds it teleported to
    pagerank: str  # network value: where the PageRank it blends came from
    tie_kinds_absent: list[str]  # GDS: tie kinds the database has never held
    projected_nodes: int
    projected_relationships: int


def _pagerank_options(params: PageRankParams) -> dict[str, Any]:
    """The same PageRank settings for the plain and the personalised run."""
    return {
        "alpha": params.damping,
        "weighted": True,
        "tol": params.tolerance,
        "max_iter": params.max_iterations,
    }


# --- in-process ----------------------------------------------------------------------------------
def pagerank(graph: GraphData, params: PageRankParams) -> tuple[NodeValues, dict[str, Any]]:
    return centrality.pagerank(graph, **_pagerank_options(params)).as_dict(), {}


def personalized_pagerank(
    graph: GraphData, params: PersonalizedPageRankParams, seeds: Sequence[str]
) -> tuple[NodeValues, dict[str, Any]]:
    in_graph = set(graph.node_ids)  # once: a product can have 100k holders
    known = [seed for seed in seeds if seed in in_graph]
    if not known:
        raise InvalidParametersError("no seed customer (holder or participant) in the graph")
    scores = centrality.personalized_pagerank(graph, known, **_pagerank_options(params))
    return scores.as_dict(), {"seeds": len(known)}


def degree(graph: GraphData, params: AlgorithmParams) -> tuple[NodeValues, dict[str, Any]]:
    return centrality.degree(graph).as_dict(), {}


def betweenness(graph: GraphData, params: BetweennessParams) -> tuple[NodeValues, dict[str, Any]]:
    pivots = None if params.samples is None else min(params.samples, len(graph.node_ids))
    scores = centrality.betweenness(graph, k=pivots, seed=params.seed, normalized=False)
    return scores.as_dict(), {}


# --- GDS -----------------------------------------------------------------------------------------
def _normalised(frame: Any) -> Any:
    # GDS does not normalise; stored scores sum to 1 on both engines
    total = float(frame["score"].sum()) or 1.0
    frame["score"] = frame["score"].astype(float) / total
    return frame


def _gds_pagerank_options(params: PageRankParams) -> dict[str, Any]:
    """The GDS spelling of :func:`_pagerank_options`."""
    return {
        "damping_factor": params.damping,
        "max_iterations": params.max_iterations,
        "tolerance": params.tolerance,
        "relationship_weight_property": GDS_WEIGHT,
    }


def pagerank_gds(gds: Any, graph: Any, params: PageRankParams) -> tuple[Any, str]:
    frame = gds.page_rank.stream(graph, **_gds_pagerank_options(params))
    return _normalised(frame), "score"


def personalized_pagerank_gds(
    gds: Any, graph: Any, params: PersonalizedPageRankParams, source_nodes: Sequence[int]
) -> tuple[Any, str]:
    if not source_nodes:
        raise InvalidParametersError("no seed customer (holder or participant) in the graph")
    frame = gds.page_rank.stream(
        graph, source_nodes=[int(i) for i in source_nodes], **_gds_pagerank_options(params)
    )
    return _normalised(frame), "score"


def degree_gds(gds: Any, graph: Any, params: AlgorithmParams) -> tuple[Any, str]:
    return gds.degree.stream(graph), "score"


def betweenness_gds(gds: Any, graph: Any, params: BetweennessParams) -> tuple[Any, str]:
    pivots = None if params.samples is None else min(params.samples, graph.node_count())
    frame = gds.betweenness.stream(
        graph, sampling_size=pivots, sampling_seed=params.seed if pivots else None
    )
    return frame, "score"


# --- seeds ---------------------------------------------------------------------------------------
async def seeds_of(run: RunContext, params: PersonalizedPageRankParams) -> list[str]:
    """A product's holders or a scenario's members, inside the run's scope; recorded on the
    run (the holders or participants may change later)."""
    if params.seed_product_id is not None:
        seeds = await run.customers.holders(params.seed_product_id)
        what = f"product {params.seed_product_id!r} has no holders"
    else:
        assert params.seed_scenario_id is not None
        seeds = await run.customers.scenario_members(params.seed_scenario_id)
        what = f"scenario {params.seed_scenario_id!r} has no participants"
    if not seeds:
        raise InvalidParametersError(what)
    if not run.scope.is_whole_graph:  # seeds outside the scope are not in its graph
        in_scope = set(await run.projections.customer_ids(run.customer_scope))
        seeds = [seed for seed in seeds if seed in in_scope]
        if not seeds:
            raise InvalidParametersError(
                "no seed customer (holder or participant) inside the scope"
            )
    await run.record({"seed_count": len(seeds), "seeds_json": json.dumps(seeds)})
    return seeds


# --- the referral cascade ------------------------------------------------------------------------
async def referral_influence(run: RunContext, params: AlgorithmParams) -> Computed:
    """Converted referees in the REFERRED cascade below each customer (all depths)."""
    await run.progress(0.02, "read")
    customers = await run.projections.customer_ids()
    src, dst = await run.projections.converted_referrals()
    graph = GraphData.from_edges(zip(src, dst, strict=True), nodes=customers, directed=True)
    await run.progress(0.3, "compute")
    values: dict[str, Any] = (await asyncio.to_thread(referral.referral_influence, graph)).as_dict()
    summary = {"nonzero": sum(1 for v in values.values() if v)}
    return Computed(values, summary, len(customers), len(src))
