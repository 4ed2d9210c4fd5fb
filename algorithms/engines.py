"""The two engines behind one interface: GDS inside Neo4j, and in-process.

Both take the same undirected, strength-weighted customer tie graph and return one value per
customer id, so the runner (and the parity tests) treat them alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from algorithms.graphdata import GraphData
from algorithms.inproc import centrality, community
from algorithms.registry import (
    AlgorithmParams,
    AlgorithmSpec,
    BetweennessParams,
    CommunityParams,
    PageRankParams,
)
from graph.queries.analytics import GDS_NODE_KEYS
from graph.store import ConnectionTarget

NodeValues = dict[str, float | int]


def run_inproc(
    spec: AlgorithmSpec,
    params: AlgorithmParams,
    customers: Sequence[str],
    ties: Sequence[tuple[str, str, float]],
) -> tuple[NodeValues, dict[str, Any]]:
    """Compute in this process (CPU-bound: call it from a worker thread)."""
    graph = GraphData.from_edges(
        [(s, d) for s, d, _ in ties],
        nodes=customers,
        directed=False,
        weight=[w for _, _, w in ties],
    )
    summary: dict[str, Any] = {}
    if spec.name in ("wcc", "louvain", "leiden", "label_propagation"):
        if spec.name == "wcc":
            found = community.weakly_connected_components(graph)
        elif spec.name == "louvain":
            assert isinstance(params, CommunityParams)
            found = community.louvain(graph, resolution=params.resolution, seed=params.seed)
        elif spec.name == "leiden":
            assert isinstance(params, CommunityParams)
            found = community.leiden(graph, resolution=params.resolution, seed=params.seed)
        else:
            found = community.label_propagation(graph, seed=params.seed)
        summary["communities"] = found.n_communities
        summary["modularity"] = community.modularity(graph, found.labels)
        return dict(zip(found.node_ids, found.labels.tolist(), strict=True)), summary
    scores: centrality.NodeScores
    if spec.name == "pagerank":
        assert isinstance(params, PageRankParams)
        scores = centrality.pagerank(
            graph,
            alpha=params.damping,
            weighted=True,
            tol=params.tolerance,
            max_iter=params.max_iterations,
        )
    elif spec.name == "degree":
        scores = centrality.degree(graph)
    elif spec.name == "betweenness":
        assert isinstance(params, BetweennessParams)
        scores = centrality.betweenness(graph, k=params.samples, seed=params.seed, normalized=False)
    else:
        raise ValueError(f"no in-process implementation of {spec.name}")
    return scores.as_dict(), summary


def run_gds(
    spec: AlgorithmSpec, params: AlgorithmParams, target: ConnectionTarget
) -> tuple[NodeValues, dict[str, Any]]:
    """Project, compute and drop inside Neo4j with the graphdatascience client (blocking)."""
    from graphdatascience import GraphDataScience

    gds = GraphDataScience(
        target.uri,
        auth=(target.user, target.password),
        database=target.database,
        arrow=False,
        show_progress=False,
    )
    name = f"crkg-{spec.name}-{uuid.uuid4().hex[:12]}"
    types = [kind.value for kind in params.tie_kinds]
    projection = {
        t: {
            "type": t,
            "orientation": "UNDIRECTED",
            "properties": {"strength": {"property": "strength", "defaultValue": 1.0}},
        }
        for t in types
    }
    summary: dict[str, Any] = {}
    try:
        if params.min_strength > 0:
            raise ValueError("min_strength is only supported by the in-process engine so far")
        with gds.graph.project.native(name, "Customer", projection) as graph:
            frame = _gds_stream(gds, spec, params, graph)
            summary["projected_nodes"] = int(graph.node_count())
            summary["projected_relationships"] = int(graph.relationship_count())
        column = (
            "componentId"
            if spec.name == "wcc"
            else ("communityId" if "communityId" in frame.columns else "score")
        )
        keys = gds.run_cypher(GDS_NODE_KEYS, {"ids": [int(i) for i in frame["nodeId"]]})
        ids = dict(zip(keys["id"].astype(int), keys["customer_id"], strict=True))
        values: NodeValues = {
            ids[int(node)]: (int(value) if column != "score" else float(value))
            for node, value in zip(frame["nodeId"], frame[column], strict=True)
        }
        if spec.name == "pagerank":
            # GDS does not normalise; stored scores sum to 1 on both engines
            total = sum(values.values()) or 1.0
            values = {k: float(v) / total for k, v in values.items()}
        return values, summary
    finally:
        gds.close()


def _gds_stream(gds: Any, spec: AlgorithmSpec, params: AlgorithmParams, graph: Any) -> Any:
    weight = "strength"
    if spec.name == "wcc":
        return gds.wcc.stream(graph)
    if spec.name == "louvain":
        assert isinstance(params, CommunityParams)
        if params.resolution != 1.0:
            raise ValueError("GDS Louvain has no resolution parameter; use engine inproc")
        # one thread: GDS Louvain is deterministic only without parallel moves
        return gds.louvain.stream(graph, relationship_weight_property=weight, concurrency=1)
    if spec.name == "leiden":
        assert isinstance(params, CommunityParams)
        return gds.leiden.stream(
            graph,
            relationship_weight_property=weight,
            concurrency=1,
            random_seed=params.seed,
            gamma=params.resolution,
        )
    if spec.name == "label_propagation":
        return gds.label_propagation.stream(
            graph, relationship_weight_property=weight, concurrency=1
        )
    if spec.name == "pagerank":
        assert isinstance(params, PageRankParams)
        return gds.page_rank.stream(
            graph,
            damping_factor=params.damping,
            max_iterations=params.max_iterations,
            tolerance=params.tolerance,
            relationship_weight_property=weight,
        )
    if spec.name == "degree":
        return gds.degree.stream(graph)
    if spec.name == "betweenness":
        assert isinstance(params, BetweennessParams)
        return gds.betweenness.stream(
            graph,
            sampling_size=params.samples,
            sampling_seed=params.seed if params.samples else None,
        )
    raise ValueError(f"no GDS implementation of {spec.name}")
