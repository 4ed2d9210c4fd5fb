"""Community algorithms on both engines, and the Community profiles of a stored partition.

Each algorithm is an in-process function (``algorithms.inproc.community``) and a GDS stream;
the runner keeps community ids stable across runs (:func:`match_to_previous`) and, after a
whole-graph run, writes one ``Community`` node per community (:func:`write_profiles`).
Segmentation changes tiers, so it refreshes the profiles' tier, product and scenario parts
(:func:`refresh_profiles`); a load that changes them marks the profiles stale.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any, TypedDict

from algorithms.context import RunContext
from algorithms.engines import NodeValues, tie_graph
from algorithms.graphdata import GraphData
from algorithms.inproc import community
from algorithms.params import AlgorithmParams, CommunityParams, InvalidParametersError
from graph.read_models import TieColumns
from graph.results import COMMUNITY_PROPERTIES, community_property_of

GDS_WEIGHT = "strength"


class CommunitySummary(TypedDict, total=False):
    communities: int  # communities of the stored partition
    modularity: float
    kept_previous_id: int  # customers whose community id is the previous run's
    profiles: int  # Community nodes written (whole-graph runs)
    tie_kinds_absent: list[str]  # GDS: tie kinds the database has never held
    projected_nodes: int
    projected_relationships: int


def _summary(graph: GraphData, found: community.CommunityResult, modularity: float | None) -> Any:
    return {
        "communities": found.n_communities,
        "modularity": community.modularity(graph, found.labels)
        if modularity is None
        else modularity,
    }


def _values(found: community.CommunityResult) -> NodeValues:
    return dict(zip(found.node_ids, found.labels.tolist(), strict=True))


# --- in-process ----------------------------------------------------------------------------------
def wcc(graph: GraphData, params: AlgorithmParams) -> tuple[NodeValues, dict[str, Any]]:
    found = community.weakly_connected_components(graph)
    return _values(found), _summary(
        graph, found, community.component_modularity(graph, found.labels)
    )


def _optimised(
    graph: GraphData, found: community.CommunityResult, resolution: float
) -> tuple[NodeValues, dict[str, Any]]:
    # the optimiser's modularity is at its resolution; the summary's is at 1.0
    return _values(found), _summary(graph, found, found.modularity if resolution == 1.0 else None)


def louvain(graph: GraphData, params: CommunityParams) -> tuple[NodeValues, dict[str, Any]]:
    found = community.louvain(graph, resolution=params.resolution, seed=params.seed)
    return _optimised(graph, found, params.resolution)


def leiden(graph: GraphData, params: CommunityParams) -> tuple[NodeValues, dict[str, Any]]:
    found = community.leiden(graph, resolution=params.resolution, seed=params.seed)
    return _optimised(graph, found, params.resolution)


def label_propagation(
    graph: GraphData, params: AlgorithmParams
) -> tuple[NodeValues, dict[str, Any]]:
    return _optimised(graph, community.label_propagation(graph, seed=params.seed), 1.0)


# --- GDS -----------------------------------------------------------------------------------------
def wcc_gds(gds: Any, graph: Any, params: AlgorithmParams) -> tuple[Any, str]:
    return gds.wcc.stream(graph), "componentId"


def louvain_gds(gds: Any, graph: Any, params: CommunityParams) -> tuple[Any, str]:
    if params.resolution != 1.0:
        raise InvalidParametersError(
            "louvain: GDS Louvain has no resolution parameter; use engine inproc"
        )
    # one thread: GDS Louvain is deterministic only without parallel moves
    frame = gds.louvain.stream(graph, relationship_weight_property=GDS_WEIGHT, concurrency=1)
    return frame, "communityId"


def leiden_gds(gds: Any, graph: Any, params: CommunityParams) -> tuple[Any, str]:
    frame = gds.leiden.stream(
        graph,
        relationship_weight_property=GDS_WEIGHT,
        concurrency=1,
        random_seed=params.seed,
        gamma=params.resolution,
    )
    return frame, "communityId"


def label_propagation_gds(gds: Any, graph: Any, params: AlgorithmParams) -> tuple[Any, str]:
    frame = gds.label_propagation.stream(
        graph, relationship_weight_property=GDS_WEIGHT, concurrency=1
    )
    return frame, "communityId"


# --- profiles ------------------------------------------------------------------------------------
def profile_parts(
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


def community_rows(
    algorithm: str,
    graph: GraphData,
    membership: dict[str, str],
    breakdown: dict[str, dict[str, dict[str, int]]],
    products: list[str],
) -> list[dict[str, Any]]:
    """The Community nodes of a stored partition.

    Properties: community_id ``"<algorithm>:<local id>"``, algorithm, local_id (the value in
    ``Customer.community_<algorithm>``), size, internal_ties, density, central_members (top 5
    by ties inside the community), and the parts of :func:`profile_parts`.
    """
    rows = []
    for profile in community.community_profiles(graph, membership, top=5):
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
                **profile_parts(breakdown.get(local, {}), profile.size, products),
            }
        )
    return rows


async def write_profiles(run: RunContext, prop: str, customers: list[str], ties: TieColumns) -> int:
    """One Community node per community of the partition just stored in ``prop``."""
    membership = {k: str(v) for k, v in (await run.customers.read_result(prop)).items()}
    breakdown = await run.communities.breakdown(prop)
    products = await run.customers.product_ids()
    rows = await asyncio.to_thread(
        community_rows, run.spec.name, tie_graph(customers, ties), membership, breakdown, products
    )
    for row in rows:
        row["profile_run_id"] = run.run_id  # which run computed the profile parts
    await run.progress(0.95, "write profiles")
    return await run.communities.replace(run.spec.name, rows, run.run_id)


async def refresh_profiles(run: RunContext) -> dict[str, int]:
    """Recompute the tier, product and scenario parts of every stored community profile.

    Called after a segmentation run (tiers changed); a load that changes customers,
    holdings or participation marks the profiles ``stale`` until this or a community run.
    """
    products = await run.customers.product_ids()
    known = {p.algorithm for p in COMMUNITY_PROPERTIES}
    refreshed: dict[str, int] = {}
    for algorithm in await run.communities.profiled_algorithms():
        if algorithm not in known:
            continue
        prop = community_property_of(algorithm).value
        breakdown = await run.communities.breakdown(prop)
        sizes: Counter[str] = Counter(
            str(v) for v in (await run.customers.read_result(prop)).values()
        )
        rows = [
            {
                "community_id": f"{algorithm}:{local}",
                "props": profile_parts(breakdown.get(local, {}), size, products),
            }
            for local, size in sizes.items()
        ]
        refreshed[algorithm] = await run.communities.refresh_profiles(rows, run.run_id)
    return refreshed
