"""The undirected adjacency of a graph, built once and shared by the algorithms that read it.

:meth:`GraphData.to_csr` builds a fresh matrix on every call (with 64-bit indices, through
a sparse ``M + M.T - diag`` that costs a second pass). PageRank and components on the tie
graph only need the symmetric structure and its weights, so :func:`undirected_adjacency`
builds them in one pass with 32-bit indices (a CSR mat-vec then moves a quarter fewer bytes)
and keeps them for as long as the graph lives. A :class:`GraphData` is immutable, so what is
cached can never go stale; :func:`prebuild` lets the code that builds a graph pay for it up
front, as networkx's and igraph's graphs are built before an algorithm runs.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from algorithms.graphdata import Float64Array, GraphData

__all__ = ["UndirectedAdjacency", "prebuild", "undirected_adjacency"]


@dataclass(frozen=True, eq=False)
class UndirectedAdjacency:
    """The undirected view of a graph as one symmetric CSR structure.

    ``weights`` and ``structure`` share ``indptr`` and ``indices``: ``weights`` holds the
    summed weights of parallel edges (their number when unweighted; explicit zeros kept, so a
    zero-weight edge still links its ends), ``structure`` holds ones. An edge ``u - v`` is
    stored at ``(u, v)`` and ``(v, u)``, a self-loop once on the diagonal:
    :meth:`GraphData.to_csr` with ``symmetric=True``. ``strength`` is each node's row sum of
    ``weights``.
    """

    weights: sp.csr_array
    structure: sp.csr_array
    strength: Float64Array


_CACHE: weakref.WeakKeyDictionary[GraphData, dict[bool, UndirectedAdjacency]] = (
    weakref.WeakKeyDictionary()
)
_LOCK = threading.Lock()


def _build(graph: GraphData, weighted: bool) -> UndirectedAdjacency:
    n = graph.n_nodes
    index = np.int32 if max(n, 2 * graph.n_edges) < np.iinfo(np.int32).max else np.int64
    src, dst = graph.src.astype(index), graph.dst.astype(index)
    weight = graph.edge_weights() if weighted else np.ones(graph.n_edges)
    other = src != dst  # a self-loop is stored once
    rows = np.concatenate([src, dst[other]])
    cols = np.concatenate([dst, src[other]])
    values = np.concatenate([weight, weight[other]])
    # The (data, (row, col)) constructor sorts by row in linear time and sums duplicates.
    weights = sp.csr_array((values, (rows, cols)), shape=(n, n))
    weights.sum_duplicates()
    structure = sp.csr_array(
        (np.ones(weights.nnz), weights.indices, weights.indptr), shape=(n, n), copy=False
    )
    strength = np.asarray(weights @ np.ones(n), dtype=np.float64)
    # Not write-protected: scipy's compiled routines take writable buffers only. Nothing here
    # writes to them; callers must not either.
    strength.setflags(write=False)
    return UndirectedAdjacency(weights, structure, strength)


def undirected_adjacency(graph: GraphData, *, weighted: bool = True) -> UndirectedAdjacency:
    """The graph's undirected adjacency, built on first use and then reused.

    ``weighted=False`` counts parallel edges instead of adding their weights.

    Examples
    --------
    >>> g = GraphData.from_edges([("a", "b"), ("a", "b"), ("b", "b")], weight=[1, 2, 5])
    >>> adjacency = undirected_adjacency(g)
    >>> adjacency.weights.toarray()
    array([[0., 3.],
           [3., 5.]])
    >>> bool((adjacency.weights != g.to_csr(symmetric=True)).nnz == 0)
    True
    >>> adjacency.strength, undirected_adjacency(g) is adjacency
    (array([3., 8.]), True)
    >>> undirected_adjacency(g, weighted=False).weights.toarray()
    array([[0., 2.],
           [2., 1.]])
    """
    with _LOCK:
        built = _CACHE.setdefault(graph, {})
        found = built.get(weighted)
        if found is None:
            found = built[weighted] = _build(graph, weighted)
        return found


def prebuild(graph: GraphData) -> GraphData:
    """Build the weighted adjacency now (for a graph PageRank or components will read)."""
    undirected_adjacency(graph)
    return graph
