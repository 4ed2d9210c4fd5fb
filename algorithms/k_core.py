"""k-core decomposition of the customer tie graph, on both engines.

A customer's core number is the largest ``k`` such that it belongs to a group in which every
member has at least ``k`` ties to other members: a cohesive-core measure of influence
(customers deep in the core spread word further than hubs at the edge). Parallel ties (two
tie kinds between the same customers) each count, as in ``degree`` and in GDS.
"""

from __future__ import annotations

from typing import Any

import igraph as ig  # type: ignore[import-untyped]

from algorithms.engines import NodeValues
from algorithms.graphdata import GraphData
from algorithms.params import AlgorithmParams


def k_core(graph: GraphData, params: AlgorithmParams) -> tuple[NodeValues, dict[str, Any]]:
    """The core number of every node of the undirected tie graph.

    Parameters
    ----------
    graph : GraphData
        The tie graph; its direction is ignored and parallel edges each count.
    params : AlgorithmParams
        The tie graph's selection (tie kinds, ``min_strength``), already applied.

    Returns
    -------
    values, summary
        Core number per node id (an isolated node has 0); nothing to add to the summary
        (the runner records the top five).

    Examples
    --------
    >>> g = GraphData.from_edges(
    ...     [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], nodes=["a", "b", "c", "d", "e"]
    ... )
    >>> k_core(g, AlgorithmParams())
    ({'a': 2, 'b': 2, 'c': 2, 'd': 1, 'e': 0}, {})
    """
    edges = list(zip(graph.src.tolist(), graph.dst.tolist(), strict=True))
    cores = ig.Graph(n=graph.n_nodes, edges=edges, directed=False).coreness()
    values: NodeValues = dict(zip(graph.node_ids, (int(c) for c in cores), strict=True))
    return values, {}


def k_core_gds(gds: Any, graph: Any, params: AlgorithmParams) -> tuple[Any, str]:
    """``gds.kcore.stream`` on the projected (undirected) tie graph: nodeId, coreValue."""
    return gds.kcore.stream(graph), "coreValue"
