"""Referral: whom to target for a product and through whom, and referral cascades.

Link prediction scores every (candidate, holder) pair at once with two sparse matrix
products, ``A[candidates] @ diag(w) @ A[:, holders]``, where ``w`` weighs each common
neighbour (1, ``1/log deg`` or ``1/deg``) - the batch formulation of networkx's per-pair
``common_neighbors``, ``adamic_adar_index`` and ``resource_allocation_index``.

The warmest introduction paths are in :mod:`algorithms.inproc.paths`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from algorithms.graphdata import GraphData, InvalidGraphError
from algorithms.inproc.centrality import NodeScores

__all__ = [
    "TARGET_WEIGHTS",
    "IntroductionPath",
    "LinkMethod",
    "LinkScores",
    "ScoredTarget",
    "link_prediction",
    "referral_influence",
    "score_referral_targets",
]

LinkMethod = Literal["common_neighbors", "adamic_adar", "resource_allocation"]


@dataclass(frozen=True, eq=False)
class LinkScores:
    """Pairwise scores: ``matrix[i, j]`` scores ``candidates[i]`` with ``targets[j]``.

    ``matrix`` is a ``scipy.sparse.csr_array``; absent entries are 0.
    """

    candidates: tuple[str, ...]
    targets: tuple[str, ...]
    matrix: Any

    def score(self, candidate: str, target: str) -> float:
        i = self.candidates.index(candidate)
        j = self.targets.index(target)
        return float(self.matrix[i, j])

    def pairs(self) -> list[tuple[str, str, float]]:
        """Every pair with a positive score."""
        coo = self.matrix.tocoo()
        return [
            (self.candidates[i], self.targets[j], float(value))
            for i, j, value in zip(
                coo.coords[0].tolist(), coo.coords[1].tolist(), coo.data.tolist(), strict=True
            )
            if value > 0
        ]


def _simple_undirected(graph: GraphData) -> Any:
    """0/1 symmetric adjacency without self-loops: the graph networkx's indices assume."""
    adjacency = graph.with_edges(graph.src != graph.dst).to_csr(weighted=False, symmetric=True)
    adjacency.data[:] = 1.0
    return adjacency


def _neighbour_weights(degree: Any, method: LinkMethod) -> Any:
    weights = np.zeros(degree.shape[0])
    # A common neighbour of two distinct nodes has degree >= 2, so nodes below that never
    # contribute; leaving them at 0 keeps 1/log(1) out of the product.
    useful = degree >= 2
    if method == "common_neighbors":
        weights[useful] = 1.0
    elif method == "adamic_adar":
        weights[useful] = 1.0 / np.log(degree[useful])
    elif method == "resource_allocation":
        weights[useful] = 1.0 / degree[useful]
    else:
        raise InvalidGraphError(f"unknown link-prediction method {method!r}")
    return weights


def _pair_scores(adjacency: Any, rows: Any, columns: Any, weights: Any) -> Any:
    scores = (adjacency[rows] @ sp.diags_array(weights) @ adjacency[:, columns]).tocsr()
    # A node is not its own referral target: drop the (x, x) pairs.
    positions: dict[int, list[int]] = {}
    for i, node in enumerate(rows.tolist()):
        positions.setdefault(node, []).append(i)
    same = [(i, j) for j, node in enumerate(columns.tolist()) for i in positions.get(node, ())]
    if same:
        first, second = zip(*same, strict=True)
        mask = sp.csr_array((np.ones(len(same)), (first, second)), shape=scores.shape)
        scores = (scores - scores.multiply(mask)).tocsr()
    scores.eliminate_zeros()
    return scores


def link_prediction(
    graph: GraphData,
    candidates: Iterable[str],
    targets: Iterable[str],
    *,
    method: LinkMethod = "adamic_adar",
) -> LinkScores:
    """Neighbourhood link-prediction scores of every (candidate, target) pair.

    Parameters
    ----------
    graph : GraphData
        Read as an undirected simple graph (directions and parallel edges ignored,
        self-loops dropped), as networkx's indices require.
    candidates, targets : iterables of node ids
    method : {"adamic_adar", "resource_allocation", "common_neighbors"}
        Weight of a common neighbour ``z``: ``1/log deg(z)``, ``1/deg(z)`` or 1.

    Returns
    -------
    LinkScores
        A node paired with itself scores 0.

    Examples
    --------
    >>> g = GraphData.from_edges([("a", "z"), ("b", "z"), ("b", "y"), ("c", "y")])
    >>> scores = link_prediction(g, ["a", "c"], ["b"], method="resource_allocation")
    >>> scores.score("a", "b"), scores.score("c", "b")
    (0.5, 0.5)
    """
    candidate_ids = tuple(candidates)
    target_ids = tuple(targets)
    rows = graph.indices_of(candidate_ids)
    columns = graph.indices_of(target_ids)
    adjacency = _simple_undirected(graph)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    weights = _neighbour_weights(degree, method)
    return LinkScores(candidate_ids, target_ids, _pair_scores(adjacency, rows, columns, weights))


# --- referral targets with reasons ---------------------------------------------------------
# Weights of the referral-target score; every signal lies in [0, 1], so the score does too.
TARGET_WEIGHTS: dict[str, float] = {
    "link": 0.40,  # link prediction towards holders (the chosen method), / its maximum
    "adoption": 0.25,  # share of the candidate's ties who hold the product
    "tie": 0.20,  # strength of the candidate's strongest tie to a holder
    "influence": 0.15,  # percentile rank of the best introducer's influence (PageRank)
}


@dataclass(frozen=True)
class IntroductionPath:
    """A holder who can introduce the target, through the warmest path within two ties."""

    node_id: str
    score: float  # product of the tie strengths along ``path``
    common_neighbors: int
    path: tuple[str, ...]  # target, (middle person,) introducer


@dataclass(frozen=True)
class ScoredTarget:
    """A referral target: its rank, score and the numbers the score is made of."""

    candidate: str
    rank: int
    score: float
    adamic_adar: float
    common_neighbors: float
    resource_allocation: float
    adoption_rate: float
    tie_strength: float
    introducer_influence: float
    introducers: tuple[IntroductionPath, ...]


def _strength_matrix(graph: GraphData) -> Any:
    """Symmetric tie strength per pair (strongest of parallel ties), no self-loops."""
    n = graph.n_nodes
    keep = graph.src != graph.dst
    low = np.minimum(graph.src[keep], graph.dst[keep])
    high = np.maximum(graph.src[keep], graph.dst[keep])
    weight = graph.edge_weights()[keep]
    if low.shape[0] == 0:
        return sp.csr_array((n, n))
    key = low * n + high
    order = np.argsort(key, kind="stable")
    key, weight = key[order], weight[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    strongest = np.maximum.reduceat(weight, starts)
    rows, cols = key[starts] // n, key[starts] % n
    upper = sp.csr_array((strongest, (rows, cols)), shape=(n, n))
    return (upper + upper.T).tocsr()


def _percentile_ranks(values: Any) -> Any:
    """Average rank / n in (0, 1]; 0 for an empty input."""
    from scipy.stats import rankdata

    if values.shape[0] == 0:
        return values
    return rankdata(values, method="average") / values.shape[0]


def score_referral_targets(
    graph: GraphData,
    holders: Iterable[str],
    *,
    eligible: Iterable[str] | None = None,
    influence: dict[str, float] | None = None,
    method: LinkMethod = "adamic_adar",
    top_n: int = 500,
    top_introducers: int = 3,
    introducers: Iterable[str] | None = None,
    intermediaries: Iterable[str] | None = None,
) -> list[ScoredTarget]:
    """Rank the people to target for a product, each with introducers and reasons.

    ``score = 0.40 link + 0.25 adoption + 0.20 tie + 0.15 influence`` (``TARGET_WEIGHTS``),
    every signal in [0, 1]:

    - *link*: the candidate's ``method`` link-prediction score summed over all holders
      (Adamic–Adar by default), divided by the largest such sum among the candidates;
    - *adoption*: holders among the candidate's ties / the candidate's ties;
    - *tie*: strength of the candidate's strongest direct tie to a holder (0 if none);
    - *influence*: percentile rank, among all nodes, of ``influence`` (e.g. PageRank) of
      the candidate's best introducer (0 when ``influence`` is not given).

    Introducers are the holders with the warmest path to the candidate within two ties
    (strength = product of the tie strengths), best first, among ``introducers`` when given
    (an introducer is contacted too: the caller passes those who consented and are not
    risk-flagged); a holder left out still counts as a holder. The person in the middle of a
    two-tie path is asked too, so with ``intermediaries`` only those may stand there (the
    caller passes, again, who may be contacted). Candidates are the non-holders in
    ``eligible`` with a holder within two ties (with ``introducers``: one of those, reached
    directly or through one of ``intermediaries``).
    Exact: the influence term can only add ``TARGET_WEIGHTS["influence"]``, so introducers
    are found for every candidate that could still reach the top ``top_n``.

    Parameters
    ----------
    graph : GraphData
        Social ties with ``weight`` = strength in [0, 1]; read as undirected.
    holders : iterable of node ids
        Customers holding the product.
    eligible : iterable of node ids, optional
        Who may be targeted (consent, not risk-flagged, eligible for the product); default
        everyone.
    introducers : iterable of node ids, optional
        Who may introduce (consent, not risk-flagged); default every holder.
    intermediaries : iterable of node ids, optional
        Who may be the middle person of a two-tie path; default anyone.
    influence : mapping of node id to float, optional
        Influence of possible introducers (e.g. ``score_pagerank``).
    method : {"adamic_adar", "resource_allocation", "common_neighbors"}
        Link-prediction index behind the *link* signal.
    top_n : int
        Targets returned.
    top_introducers : int
        Introducers per target.

    Returns
    -------
    list of ScoredTarget
        Best first, ``rank`` 1, 2, ... (ties by id); the three link-prediction columns are
        the raw sums over holders.

    Examples
    --------
    >>> ties = [("h1", "z"), ("cand", "z"), ("cand", "h2"), ("h2", "w"), ("h1", "w")]
    >>> g = GraphData.from_edges(ties, directed=False, weight=[0.9, 0.8, 0.5, 0.7, 0.6])
    >>> best = score_referral_targets(g, ["h1", "h2"])[0]
    >>> best.candidate, best.rank, best.adoption_rate, best.tie_strength
    ('z', 1, 0.5, 0.9)
    >>> [(i.node_id, i.path, round(i.score, 2)) for i in best.introducers]
    [('h1', ('z', 'h1'), 0.9), ('h2', ('z', 'cand', 'h2'), 0.4)]

    Nobody but ``z`` may stand between: ``h2`` no longer introduces ``z`` through ``cand``.

    >>> screened = score_referral_targets(g, ["h1", "h2"], intermediaries=["z"])[0]
    >>> [(i.node_id, i.path) for i in screened.introducers]
    [('h1', ('z', 'h1'))]
    """
    n = graph.n_nodes
    holder_index = np.unique(graph.indices_of(dict.fromkeys(holders)))
    if n == 0 or holder_index.shape[0] == 0 or top_n < 1:
        return []
    is_holder = np.zeros(n, dtype=bool)
    is_holder[holder_index] = True
    may_introduce = is_holder.copy()
    if introducers is not None:
        screened = np.zeros(n, dtype=bool)
        known_ids = set(graph.node_ids)
        screened[graph.indices_of([i for i in introducers if i in known_ids])] = True
        may_introduce &= screened
    may_mediate = np.ones(n, dtype=bool)
    if intermediaries is not None:
        may_mediate[:] = False
        known_ids = set(graph.node_ids)
        may_mediate[graph.indices_of([i for i in intermediaries if i in known_ids])] = True
    adjacency = _simple_undirected(graph)
    strength = _strength_matrix(graph)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    holder_vector = is_holder.astype(np.float64)
    holder_ties = adjacency @ holder_vector
    link = {
        m: adjacency @ (_neighbour_weights(degree, m) * holder_ties)
        for m in ("adamic_adar", "common_neighbors", "resource_allocation")
    }
    if method not in link:
        raise InvalidGraphError(f"unknown link-prediction method {method!r}")
    pool = ~is_holder & ((link["common_neighbors"] > 0) | (holder_ties > 0))
    if introducers is not None or intermediaries is not None:
        # a referral needs someone allowed to make it, reached directly or through
        # someone allowed to stand between
        near = adjacency @ may_introduce.astype(np.float64)
        pool &= (near + adjacency @ (near * may_mediate)) > 0
    if eligible is not None:
        allowed = np.zeros(n, dtype=bool)
        known = set(graph.node_ids)
        allowed[graph.indices_of([e for e in eligible if e in known])] = True
        pool &= allowed
    candidates = np.flatnonzero(pool)
    if candidates.shape[0] == 0:
        return []
    top_link = float(link[method][candidates].max()) or 1.0
    adoption = np.divide(holder_ties, degree, out=np.zeros(n), where=degree > 0)
    tie = (strength @ sp.diags_array(holder_vector)).tocsr().max(axis=1).toarray().ravel()
    partial = (
        TARGET_WEIGHTS["link"] * link[method] / top_link
        + TARGET_WEIGHTS["adoption"] * adoption
        + TARGET_WEIGHTS["tie"] * tie
    )
    if candidates.shape[0] > top_n:
        kth = float(np.sort(partial[candidates])[::-1][top_n - 1])
        candidates = candidates[partial[candidates] >= kth - TARGET_WEIGHTS["influence"]]
    rank_of = np.zeros(n)
    if influence:
        values = np.array([float(influence.get(node, 0.0)) for node in graph.node_ids])
        rank_of = _percentile_ranks(values)

    indptr, indices, data = strength.indptr, strength.indices, strength.data
    ids = graph.node_ids
    scored = []
    for c in candidates.tolist():
        best: dict[int, tuple[float, int]] = {}  # holder -> (strength, middle or -1)
        common: dict[int, int] = {}
        for z, s1 in zip(
            indices[indptr[c] : indptr[c + 1]].tolist(),
            data[indptr[c] : indptr[c + 1]].tolist(),
            strict=True,
        ):
            if may_introduce[z] and s1 > best.get(z, (-1.0, -1))[0]:
                best[z] = (s1, -1)
            mediates = bool(may_mediate[z])
            for h, s2 in zip(
                indices[indptr[z] : indptr[z + 1]].tolist(),
                data[indptr[z] : indptr[z + 1]].tolist(),
                strict=True,
            ):
                if h == c or not may_introduce[h]:
                    continue
                common[h] = common.get(h, 0) + 1
                if mediates and s1 * s2 > best.get(h, (-1.0, -1))[0]:
                    best[h] = (s1 * s2, z)
        chosen = sorted(best.items(), key=lambda item: (-item[1][0], ids[item[0]]))
        chosen = chosen[:top_introducers]
        paths = tuple(
            IntroductionPath(
                node_id=ids[h],
                score=float(value),
                common_neighbors=common.get(h, 0),
                path=(ids[c], ids[h]) if middle < 0 else (ids[c], ids[middle], ids[h]),
            )
            for h, (value, middle) in chosen
        )
        best_influence = float(rank_of[chosen[0][0]]) if chosen and influence else 0.0
        scored.append(
            (
                float(partial[c]) + TARGET_WEIGHTS["influence"] * best_influence,
                c,
                best_influence,
                paths,
            )
        )
    scored.sort(key=lambda item: (-item[0], ids[item[1]]))
    return [
        ScoredTarget(
            candidate=ids[c],
            rank=position,
            score=score,
            adamic_adar=float(link["adamic_adar"][c]),
            common_neighbors=float(link["common_neighbors"][c]),
            resource_allocation=float(link["resource_allocation"][c]),
            adoption_rate=float(adoption[c]),
            tie_strength=float(tie[c]),
            introducer_influence=best_influence,
            introducers=paths,
        )
        for position, (score, c, best_influence, paths) in enumerate(scored[:top_n], start=1)
    ]


def referral_influence(graph: GraphData) -> NodeScores:
    """How many people sit below each node in its cascade of converted referrals.

    Counts every node reachable along the edges (referrer -> converted referee), at any
    depth, each once; the node itself never counts, so cycles are safe.

    Parameters
    ----------
    graph : GraphData
        Directed edges referrer -> referee, converted referrals only.

    Returns
    -------
    NodeScores
        Number of distinct converted referees below each node.

    Examples
    --------
    >>> g = GraphData.from_edges([("a", "b"), ("b", "c"), ("b", "d"), ("d", "a"), ("e", "c")])
    >>> referral_influence(g).as_dict()
    {'a': 3.0, 'b': 3.0, 'c': 0.0, 'd': 3.0, 'e': 1.0}
    """
    n = graph.n_nodes
    forward = graph.with_edges(graph.src != graph.dst, directed=True).to_csr(weighted=False)
    indptr, indices = forward.indptr, forward.indices
    values = np.zeros(n, dtype=np.float64)
    for start in np.flatnonzero(np.diff(indptr) > 0).tolist():
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            for following in indices[indptr[node] : indptr[node + 1]].tolist():
                if following not in seen:
                    seen.add(following)
                    stack.append(following)
        values[start] = len(seen) - 1
    return NodeScores(graph.node_ids, values)
