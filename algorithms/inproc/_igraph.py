"""Bridge to python-igraph: conversion from :class:`GraphData` and seeded runs.

igraph draws its random numbers from one process-wide generator. To keep the algorithms pure
(same seed, same answer, whatever else runs in other threads) every randomised igraph call
goes through :func:`seeded`, which installs a private generator under a lock and puts igraph's
default back afterwards.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import igraph as ig  # type: ignore[import-untyped]
import numpy as np

from algorithms.graphdata import Float64Array, GraphData, Int64Array

_RNG_LOCK = threading.Lock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run igraph with a generator seeded by ``seed``; one seeded run at a time."""
    with _RNG_LOCK:
        # Reproducibility, not secrecy, is the point of this generator.
        ig.set_random_number_generator(random.Random(seed))  # noqa: S311
        try:
            yield
        finally:
            ig.set_random_number_generator(random)


def undirected_simple(graph: GraphData) -> tuple[Int64Array, Int64Array, Float64Array]:
    """Edges of the undirected view, one per node pair, weights of parallel edges summed.

    A directed edge in either direction counts toward the pair, which is how the community
    algorithms read a directed graph.
    """
    low = np.minimum(graph.src, graph.dst)
    high = np.maximum(graph.src, graph.dst)
    key = low * max(graph.n_nodes, 1) + high
    unique, inverse = np.unique(key, return_inverse=True)
    weights = np.bincount(inverse, weights=graph.edge_weights(), minlength=unique.shape[0])
    n = max(graph.n_nodes, 1)
    return (
        (unique // n).astype(np.int64),
        (unique % n).astype(np.int64),
        weights.astype(np.float64),
    )


def to_igraph_undirected(graph: GraphData) -> tuple[Any, list[float]]:
    """An undirected simple igraph graph of ``graph`` and its edge weights."""
    src, dst, weights = undirected_simple(graph)
    # zip of Python ints is igraph's fastest edge-list input (measured ~3x faster than an
    # (m, 2) numpy array, which igraph walks element by element).
    converted = ig.Graph(
        n=graph.n_nodes, edges=list(zip(src.tolist(), dst.tolist(), strict=True)), directed=False
    )
    return converted, weights.tolist()
