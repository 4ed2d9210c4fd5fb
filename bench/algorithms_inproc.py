"""Micro-benchmark of the in-process engine against networkx on one random graph.

    python bench/algorithms_inproc.py                 # 200k nodes, 1M edges
    python bench/algorithms_inproc.py --edges 200000 --louvain

Times PageRank and weakly connected components (and, with ``--louvain``, Louvain and
Leiden against networkx's Louvain, which takes tens of seconds at 1M edges) and prints the
speed-up. networkx's PageRank runs with ``tol=1e-10 / n``, the same L1 stopping rule as ours.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import networkx as nx
import numpy as np

from algorithms.graphdata import GraphData
from algorithms.inproc import leiden, louvain, pagerank, weakly_connected_components

T = TypeVar("T")


def timed(label: str, run: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {elapsed:8.3f} s", flush=True)
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--louvain", action="store_true", help="also time community detection")
    options = parser.parse_args()

    rng = np.random.default_rng(options.seed)
    src = rng.integers(0, options.nodes, options.edges)
    dst = rng.integers(0, options.nodes, options.edges)
    weight = rng.uniform(0.1, 1.0, options.edges)
    ids = tuple(f"C{i:08d}" for i in range(options.nodes))
    print(f"random directed graph: {options.nodes:,} nodes, {options.edges:,} edges")

    pairs = list(zip([ids[i] for i in src.tolist()], [ids[i] for i in dst.tolist()], strict=True))
    graph, _ = timed("GraphData.from_edges (string ids)", lambda: GraphData.from_edges(pairs))
    graph = GraphData(node_ids=ids, src=src, dst=dst, weight=weight)
    reference, _ = timed(
        "networkx DiGraph build",
        lambda: _networkx(options.nodes, src, dst, weight),
    )

    print("PageRank (alpha 0.85, weighted, L1 tol 1e-10)")
    ours, ours_s = timed("crkg pagerank (scipy.sparse)", lambda: pagerank(graph))
    theirs, theirs_s = timed(
        "networkx pagerank",
        lambda: nx.pagerank(reference, tol=1e-10 / options.nodes, max_iter=300),
    )
    l1 = float(np.abs(ours.values - np.array([theirs[i] for i in range(options.nodes)])).sum())
    print(f"  speed-up x{theirs_s / ours_s:.1f}, L1 difference {l1:.2e}")

    print("Weakly connected components")
    wcc, ours_s = timed("crkg wcc (scipy.sparse)", lambda: weakly_connected_components(graph))
    components, theirs_s = timed(
        "networkx weakly_connected_components",
        lambda: list(nx.weakly_connected_components(reference)),
    )
    assert wcc.n_communities == len(components)
    print(f"  speed-up x{theirs_s / ours_s:.1f}, {wcc.n_communities:,} components")

    if options.louvain:
        print("Communities (undirected view)")
        undirected = reference.to_undirected()
        mine, ours_s = timed("crkg louvain (igraph)", lambda: louvain(graph, seed=0))
        found, _ = timed("crkg leiden (igraph)", lambda: leiden(graph, seed=0))
        theirs_c, theirs_s = timed(
            "networkx louvain_communities",
            lambda: nx.community.louvain_communities(undirected, seed=0),
        )
        q_nx = nx.community.modularity(undirected, theirs_c)
        print(
            f"  speed-up x{theirs_s / ours_s:.1f}; modularity louvain {mine.modularity:.4f}, "
            f"leiden {found.modularity:.4f}, networkx {q_nx:.4f}"
        )


def _networkx(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> nx.DiGraph:
    reference = nx.DiGraph()
    reference.add_nodes_from(range(n))
    # A DiGraph keeps one edge per pair; add parallel weights up as GraphData.to_csr does.
    for u, v, w in zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True):
        if reference.has_edge(u, v):
            reference[u][v]["weight"] += w
        else:
            reference.add_edge(u, v, weight=w)
    return reference


if __name__ == "__main__":
    main()
