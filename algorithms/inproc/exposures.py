"""Guarantee exposure: the parties within ``hops`` of a customer and the amounts linking them,
decayed per hop, for one customer (:func:`exposure`) or every customer (:func:`exposure_totals`).

Amounts are integer *minor units* (分, see ``graph/money.py``); decayed sums are exact
fractions (``decay`` read as the decimal it is written as) rounded half-even to the minor
unit once per reported value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import scipy.sparse as sp

from algorithms.graphdata import GraphData, InvalidGraphError, whole_minor

__all__ = ["ExposedParty", "ExposureResult", "exposure", "exposure_totals"]


@dataclass(frozen=True)
class ExposedParty:
    node_id: str
    hop: int
    amount: int  # minor units, exact
    weighted_amount: int  # minor units: amount x decay ** (hop - 1), rounded half-even


@dataclass(frozen=True)
class ExposureResult:
    """What a customer is linked to within ``hops``: each party once, at its nearest hop.

    All amounts are integer minor units. A party's ``amount`` is the sum over the edges that
    reach it from the previous hop (1 per edge when the graph has no amounts);
    ``weighted_amount`` multiplies it by ``decay ** (hop - 1)``. ``total`` and each of
    ``by_hop`` are the exact decayed sums (``decay`` read as the decimal it is written as),
    rounded half-even to the minor unit once — so ``total`` may differ by a unit or so from
    the sum of the rounded parts.
    """

    customer: str
    hops: int
    decay: float
    total: int
    by_hop: tuple[int, ...]
    parties: tuple[ExposedParty, ...]


def _exact_decay(decay: float) -> Fraction:
    """The decay as the decimal it is written as (0.1 is one tenth, not the nearest float)."""
    if not 0 <= decay <= 1:
        raise InvalidGraphError(f"decay must be in [0, 1], got {decay}")
    return Fraction(str(decay)) if isinstance(decay, float) else Fraction(decay)


def _amount_adjacency(
    graph: GraphData, direction: Literal["out", "in", "both"]
) -> tuple[list[int], list[int], list[int]]:
    """CSR rows of the walk graph with integer amounts (parallel edges added exactly)."""
    whole = (
        np.asarray(whole_minor(graph.amount), dtype=np.int64)
        if graph.amount is not None
        else np.ones(graph.n_edges, dtype=np.int64)
    )
    src, dst = graph.src, graph.dst
    if direction == "in" and graph.directed:
        src, dst = dst, src
    elif direction == "both" or not graph.directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
        whole = np.concatenate([whole, whole])
    n = graph.n_nodes
    matrix = sp.csr_array((whole, (src, dst)), shape=(n, n), dtype=np.int64)
    matrix.sum_duplicates()
    return matrix.indptr.tolist(), matrix.indices.tolist(), matrix.data.tolist()


def _hops_from(
    start: int, hops: int, indptr: list[int], indices: list[int], data: list[int]
) -> Iterator[dict[int, int]]:
    """For hop 1, 2 …: the nodes first reached there and the amount on the edges reaching
    them from the previous hop (a breadth-first search; stops when nothing new is reached)."""
    seen = {start}
    frontier = [start]
    for _ in range(hops):
        linked: dict[int, int] = {}
        for node in frontier:
            for e in range(indptr[node], indptr[node + 1]):
                target = indices[e]
                if target not in seen:
                    linked[target] = linked.get(target, 0) + data[e]
        yield linked
        if not linked:
            return
        seen.update(linked)
        frontier = list(linked)


def exposure(
    graph: GraphData,
    customer: str,
    *,
    hops: int = 2,
    decay: float = 0.5,
    direction: Literal["out", "in", "both"] = "out",
) -> ExposureResult:
    """Parties within ``hops`` of a customer and the amounts linking them, decayed per hop.

    Parameters
    ----------
    graph : GraphData
        E.g. guarantees (``guarantor -> borrower``) with ``amount`` in integer minor units.
    customer : str
        The starting customer.
    hops : int
        How far to look (1 = direct counterparties).
    decay : float
        Factor applied per hop beyond the first, in [0, 1], read as the decimal written.
    direction : {"out", "in", "both"}
        Follow edges forward, backward or both ways (undirected graphs: always both).

    Returns
    -------
    ExposureResult
        Exact integer minor units: sums of integers, decayed sums as fractions rounded
        half-even to the minor unit once per reported value.

    Examples
    --------
    >>> g = GraphData.from_edges([("me", "x"), ("x", "y"), ("me", "z")], amount=[100, 41, 10])
    >>> result = exposure(g, "me", hops=2, decay=0.5)
    >>> result.total, result.by_hop
    (130, (110, 20))
    >>> [(p.node_id, p.hop, p.amount, p.weighted_amount) for p in result.parties]
    [('x', 1, 100, 100), ('z', 1, 10, 10), ('y', 2, 41, 20)]
    """
    if hops < 1:
        raise InvalidGraphError(f"hops must be at least 1, got {hops}")
    factor_per_hop = _exact_decay(decay)
    start = graph.index_of(customer)
    indptr, indices, data = _amount_adjacency(graph, direction)
    parties: list[ExposedParty] = []
    by_hop: list[int] = []
    total = Fraction(0)
    for hop, linked in enumerate(_hops_from(start, hops, indptr, indices, data), start=1):
        factor = factor_per_hop ** (hop - 1)
        ranked = sorted(linked, key=lambda i: (-linked[i], graph.node_ids[i]))
        parties.extend(
            ExposedParty(
                node_id=graph.node_ids[i],
                hop=hop,
                amount=linked[i],
                weighted_amount=round(linked[i] * factor),
            )
            for i in ranked
        )
        exact = sum(linked.values()) * factor
        by_hop.append(round(exact))
        total += exact
    by_hop.extend([0] * (hops - len(by_hop)))
    return ExposureResult(
        customer=customer,
        hops=hops,
        decay=decay,
        total=round(total),
        by_hop=tuple(by_hop),
        parties=tuple(parties),
    )


def exposure_totals(
    graph: GraphData,
    *,
    hops: int = 2,
    decay: float = 0.5,
    direction: Literal["out", "in", "both"] = "out",
) -> dict[str, int]:
    """:func:`exposure`'s ``total`` for every node at once, in integer minor units.

    Same semantics (each party once, at its nearest hop; the amounts on the edges reaching
    it from the previous hop; ``decay ** (hop - 1)``; the exact sum rounded half-even once),
    computed by a breadth-first search per node over shared adjacency lists, so all
    customers of a large graph take about as long as their guarantee neighbourhoods.

    Examples
    --------
    >>> g = GraphData.from_edges([("me", "x"), ("x", "y"), ("me", "z")], amount=[100, 41, 10])
    >>> exposure_totals(g, hops=2, decay=0.5)
    {'me': 130, 'x': 41, 'y': 0, 'z': 0}
    """
    if hops < 1:
        raise InvalidGraphError(f"hops must be at least 1, got {hops}")
    factor_per_hop = _exact_decay(decay)
    factors = [factor_per_hop**h for h in range(hops)]
    indptr, indices, data = _amount_adjacency(graph, direction)
    totals = dict.fromkeys(graph.node_ids, 0)
    for start in range(graph.n_nodes):
        if indptr[start + 1] == indptr[start]:
            continue
        exact = Fraction(0)
        for hop, linked in enumerate(_hops_from(start, hops, indptr, indices, data)):
            exact += sum(linked.values()) * factors[hop]
        totals[graph.node_ids[start]] = round(exact)
    return totals
