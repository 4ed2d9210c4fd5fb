"""Bounded cycle searches: guarantee circles and time-ordered fund-flow cycles.

Cycle searches first cut the graph down to its strongly connected components of two or more
nodes (``scipy.sparse.csgraph``, linear time): a cycle never leaves one, and on bank-sized
guarantee and transfer graphs they hold a tiny fraction of the nodes. The bounded search
inside them is a depth-first search pruned by the distance back to the start node.
igraph 1.0's ``simple_cycles`` was measured faster but misses cycles once ``max`` reaches
7 (a 2-cycle lost in a 10-node component), so it is not used.

Amounts are integer *minor units* (see ``graph/money.py``); what a stored circle or cycle
holds is described in :mod:`algorithms.inproc.risk`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.sparse.csgraph import connected_components

from algorithms.graphdata import Float64Array, GraphData, Int64Array, InvalidGraphError, whole_minor

__all__ = [
    "CircleKind",
    "FundFlowCycle",
    "GuaranteeCircle",
    "fund_flow_cycles",
    "guarantee_circles",
]


class CircleKind(StrEnum):
    MUTUAL = "MUTUAL"  # two customers guaranteeing each other
    CIRCLE = "CIRCLE"  # three or more


@dataclass(frozen=True)
class GuaranteeCircle:
    """A simple directed cycle of guarantees, starting at its smallest member id.

    Amounts (integer minor units) of parallel guarantees between the same two customers are
    added; ``total_amount`` is the sum over the circle's links, ``min_amount`` its smallest
    link; ``None`` when the graph carries no amounts.
    """

    members: tuple[str, ...]
    kind: CircleKind
    total_amount: int | None
    min_amount: int | None

    @property
    def length(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class FundFlowCycle:
    """Money that went round: transfers ``A -> … -> A``, each later than the one before.

    ``edges`` are positions in the graph's edge arrays; ``members[i]`` paid ``edges[i]``.
    ``amounts`` are integer minor units; ``min_amount`` is the most that can have gone all
    the way round, ``total_amount`` the sum of the cycle's transfers.
    """

    members: tuple[str, ...]
    edges: tuple[int, ...]
    times: tuple[float, ...]
    amounts: tuple[int, ...] | None

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        return self.times[-1]

    @property
    def min_amount(self) -> int | None:
        return None if self.amounts is None else min(self.amounts)

    @property
    def total_amount(self) -> int | None:
        return None if self.amounts is None else sum(self.amounts)


# --- shared machinery ----------------------------------------------------------------------
def _cyclic_edges(graph: GraphData) -> Int64Array:
    """Positions of the non-loop edges whose ends share a strongly connected component."""
    if not graph.directed:
        raise InvalidGraphError("cycle searches need a directed graph")
    not_loop = graph.src != graph.dst
    _, component = connected_components(
        graph.to_csr(weighted=False), directed=True, connection="strong"
    )
    same = component[graph.src] == component[graph.dst]
    return np.flatnonzero(not_loop & same).astype(np.int64)


def _check_lengths(min_length: int, max_length: int) -> None:
    if min_length < 2 or max_length < min_length:
        raise InvalidGraphError(
            f"need 2 <= min_length <= max_length, got {min_length} and {max_length}"
        )


# --- guarantee circles ---------------------------------------------------------------------
def guarantee_circles(
    graph: GraphData,
    *,
    max_length: int = 6,
    min_length: int = 2,
) -> list[GuaranteeCircle]:
    """Every simple directed cycle of guarantees with ``min_length..max_length`` members.

    Parameters
    ----------
    graph : GraphData
        Directed ``guarantor -> borrower`` edges; ``amount`` optional. Self-guarantees are
        not circles and are ignored; parallel guarantees form one link.
    max_length, min_length : int
        Bounds on the number of members (2 finds mutual guarantees).

    Returns
    -------
    list of GuaranteeCircle
        Each cycle once, rotated to start at its smallest member id; shortest first, then
        by members.

    Examples
    --------
    >>> g = GraphData.from_edges(
    ...     [("b", "a"), ("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")],
    ...     amount=[500, 300, 100, 200, 400],
    ... )
    >>> for circle in guarantee_circles(g):
    ...     print(circle.members, circle.kind.value, circle.total_amount, circle.min_amount)
    ('a', 'b') MUTUAL 800 300
    ('b', 'c', 'd') CIRCLE 700 100
    """
    _check_lengths(min_length, max_length)
    keep = _cyclic_edges(graph)
    if keep.shape[0] == 0:
        return []
    src, dst = graph.src[keep], graph.dst[keep]
    amounts = None if graph.amount is None else graph.amount[keep]

    # Renumber the surviving nodes in id order: a search rooted at each node that only
    # visits higher numbers then finds every cycle exactly once, already rotated to its
    # smallest id.
    nodes = np.unique(np.concatenate([src, dst]))
    nodes = nodes[np.argsort(np.asarray([graph.node_ids[i] for i in nodes.tolist()]))]
    rank = np.full(graph.n_nodes, -1, dtype=np.int64)
    rank[nodes] = np.arange(nodes.shape[0])
    link_amount: dict[tuple[int, int], int] = {}
    whole = whole_minor(amounts) if amounts is not None else None
    for e, (u, v) in enumerate(zip(rank[src].tolist(), rank[dst].tolist(), strict=True)):
        value = 0 if whole is None else whole[e]
        link_amount[(u, v)] = link_amount.get((u, v), 0) + value
    successors: list[list[int]] = [[] for _ in range(nodes.shape[0])]
    predecessors: list[list[int]] = [[] for _ in range(nodes.shape[0])]
    for u, v in sorted(link_amount):
        successors[u].append(v)
        predecessors[v].append(u)

    circles: list[GuaranteeCircle] = []
    for root in range(nodes.shape[0]):
        for cycle in _bounded_cycles(root, successors, predecessors, min_length, max_length):
            links = [link_amount[(u, cycle[(i + 1) % len(cycle)])] for i, u in enumerate(cycle)]
            circles.append(
                GuaranteeCircle(
                    members=tuple(graph.node_ids[nodes[i]] for i in cycle),
                    kind=CircleKind.MUTUAL if len(cycle) == 2 else CircleKind.CIRCLE,
                    total_amount=None if amounts is None else sum(links),
                    min_amount=None if amounts is None else min(links),
                )
            )
    circles.sort(key=lambda circle: (circle.length, circle.members))
    return circles


def _bounded_cycles(
    root: int,
    successors: list[list[int]],
    predecessors: list[list[int]],
    min_length: int,
    max_length: int,
) -> list[list[int]]:
    """Simple cycles through ``root`` over nodes numbered above it, at most ``max_length``."""
    # Hops from each node back to root, over nodes above root: a path may only step to a
    # node from which root is still reachable within the remaining length.
    back = {root: 0}
    frontier = [root]
    for hop in range(1, max_length):
        following = []
        for v in frontier:
            for u in predecessors[v]:
                if u > root and u not in back:
                    back[u] = hop
                    following.append(u)
        frontier = following
    found: list[list[int]] = []
    path = [root]
    on_path = {root}
    stack = [iter(successors[root])]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            on_path.discard(path.pop())
            continue
        if step == root:
            if len(path) >= min_length:
                found.append(list(path))
            continue
        distance = back.get(step)
        if distance is None or step in on_path or len(path) + distance > max_length:
            continue
        path.append(step)
        on_path.add(step)
        stack.append(iter(successors[step]))
    return found


# --- fund-flow cycles ----------------------------------------------------------------------
def fund_flow_cycles(
    graph: GraphData,
    *,
    window: float,
    max_length: int = 4,
    min_length: int = 2,
    limit: int | None = None,
) -> list[FundFlowCycle]:
    """Time-ordered transfer cycles: ``A -> B -> … -> A``, each transfer strictly later
    than the one before it and the last at most ``window`` seconds after the first.

    Parameters
    ----------
    graph : GraphData
        Directed ``payer -> payee`` transfers with ``time`` (epoch seconds) and optionally
        ``amount``; parallel transfers are distinct edges. Members are distinct customers.
    window : float
        Longest span, in seconds, from the first transfer to the last.
    max_length, min_length : int
        Bounds on the number of transfers (and members).
    limit : int, optional
        Stop after this many cycles (in order of first transfer), for dense graphs.

    Returns
    -------
    list of FundFlowCycle
        Each cycle once: its first transfer is its earliest, so there is no rotation to
        remove. Ordered by start time, then by edges.

    Examples
    --------
    >>> g = GraphData.from_edges(
    ...     [("a", "b"), ("b", "c"), ("c", "a"), ("c", "a")],
    ...     time=[10.0, 20.0, 30.0, 15.0],
    ...     amount=[10000, 9000, 8000, 8000],
    ... )
    >>> [(c.members, c.edges, c.min_amount, c.total_amount) for c in fund_flow_cycles(g, window=60)]
    [(('a', 'b', 'c'), (0, 1, 2), 8000, 27000)]
    """
    _check_lengths(min_length, max_length)
    if graph.time is None:
        raise InvalidGraphError("fund-flow cycles need transfer times")
    if window < 0:
        raise InvalidGraphError(f"window must be non-negative, got {window}")
    keep = _cyclic_edges(graph)
    if keep.shape[0] == 0:
        return []
    times = graph.time
    # Out-transfers of each node sorted by time: the transfers that may follow one at time t
    # within the window are then one contiguous slice, found by binary search.
    order = keep[np.lexsort((times[keep], graph.src[keep]))]
    by_src = graph.src[order]
    start_of = np.searchsorted(by_src, np.arange(graph.n_nodes + 1))
    sorted_times = times[order]
    edge_dst = graph.dst.tolist()
    edge_src = graph.src.tolist()

    found: list[tuple[int, ...]] = []
    for first in keep[np.argsort(times[keep], kind="stable")].tolist():
        if limit is not None and len(found) >= limit:
            break
        origin = edge_src[first]
        deadline = float(times[first]) + window
        path_nodes = [origin, edge_dst[first]]
        path_edges = [first]
        on_path = {origin, edge_dst[first]}
        # iterators[i] walks the transfers that may follow path_edges[i].
        iterators = [
            _later(edge_dst[first], float(times[first]), deadline, start_of, sorted_times, order)
        ]
        while iterators:
            step = next(iterators[-1], None)
            if step is None:
                iterators.pop()
                path_edges.pop()
                on_path.discard(path_nodes.pop())
                continue
            target = edge_dst[step]
            if target == origin:
                if len(path_edges) + 1 >= min_length:
                    found.append((*path_edges, step))
                    if limit is not None and len(found) >= limit:
                        break
                continue
            if target in on_path or len(path_edges) + 1 >= max_length:
                continue
            path_edges.append(step)
            path_nodes.append(target)
            on_path.add(target)
            iterators.append(
                _later(target, float(times[step]), deadline, start_of, sorted_times, order)
            )

    found.sort(key=lambda edges: (float(times[edges[0]]), edges))
    whole = None if graph.amount is None else whole_minor(graph.amount)
    return [
        FundFlowCycle(
            members=tuple(graph.node_ids[edge_src[e]] for e in edges),
            edges=edges,
            times=tuple(float(times[e]) for e in edges),
            amounts=None if whole is None else tuple(whole[e] for e in edges),
        )
        for edges in found
    ]


def _later(
    node: int,
    after: float,
    deadline: float,
    start_of: Int64Array,
    sorted_times: Float64Array,
    order: Int64Array,
) -> Iterator[int]:
    """Transfers out of ``node`` strictly after ``after`` and no later than ``deadline``."""
    low, high = int(start_of[node]), int(start_of[node + 1])
    begin = low + int(np.searchsorted(sorted_times[low:high], after, side="right"))
    end = low + int(np.searchsorted(sorted_times[low:high], deadline, side="right"))
    return iter(order[begin:end].tolist())
