"""Features of a referral candidate, computed from the bank as of the cut-off day only.

Every feature reads a :class:`~algorithms.referral_model.history.Snapshot` (ties,
participation and holdings dated before T) and nothing else. "Holder" means a customer who
held the product before T. Evidence features (``EVIDENCE``) are those that more or stronger
ties to holders can only raise; the model is constrained to be non-decreasing in them.
Scenario participation enters through the two scenario features (a bare count of scenarios
was tried and left out: on these banks nearly every scenario has a holder, so the count
duplicates ``scenario_with_holder`` and only split its importance).

========================  ====================================================================
feature                   meaning
========================  ====================================================================
holder_ties               number of direct ties to holders
holder_strength           sum of the strengths (0..1) of those ties
strongest_holder_tie      strength of the strongest direct tie to a holder (0 if none)
common_neighbours         two-hop paths to holders: sum over holders of shared neighbours
two_hop_strength          sum over two-hop paths to holders of the product of both strengths
adamic_adar               Adamic–Adar index summed over holders (shared neighbour z: 1/log deg)
resource_allocation       resource allocation index summed over holders (z: 1/deg)
holder_pagerank           personalised PageRank from the holders (networkx, strength-weighted),
                          times the number of customers (1 = the average share)
community_holder_share    share of holders in the candidate's Louvain community of the T graph
scenario_with_holder      1 if the candidate shares a scenario with a holder, else 0
scenario_holder_share     highest share of holders among the members of a candidate's scenario
tier                      value tier 0 MASS, 1 AFFLUENT, 2 HIGH_NET_WORTH, 3 PRIVATE
tenure_years              years since onboarding, on the cut-off day
is_new                    1 if onboarded less than a year before the cut-off day
========================  ====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import networkx as nx
import numpy as np
import scipy.sparse as sp

from algorithms.graphdata import GraphData
from algorithms.inproc.community import louvain
from algorithms.referral_model.history import F64, I64, Snapshot

__all__ = ["EVIDENCE", "FEATURES", "FeatureMatrix", "referral_features"]

FEATURES: Final = (
    "holder_ties",
    "holder_strength",
    "strongest_holder_tie",
    "common_neighbours",
    "two_hop_strength",
    "adamic_adar",
    "resource_allocation",
    "holder_pagerank",
    "community_holder_share",
    "scenario_with_holder",
    "scenario_holder_share",
    "tier",
    "tenure_years",
    "is_new",
)
EVIDENCE: Final = frozenset(FEATURES[:11])
NEW_CUSTOMER_DAYS: Final = 365


@dataclass(frozen=True, eq=False)
class FeatureMatrix:
    """``values[i, j]`` is feature ``names[j]`` of customer ``candidates[i]``."""

    names: tuple[str, ...]
    candidates: I64
    values: F64

    def column(self, name: str) -> F64:
        """One feature for every candidate."""
        return np.asarray(self.values[:, self.names.index(name)], dtype=np.float64)


def _matrices(snapshot: Snapshot) -> tuple[sp.csr_array, sp.csr_array]:
    """Symmetric 0/1 adjacency and strength matrices (strongest of parallel ties)."""
    n = snapshot.n
    keep = snapshot.src != snapshot.dst
    low = np.minimum(snapshot.src[keep], snapshot.dst[keep])
    high = np.maximum(snapshot.src[keep], snapshot.dst[keep])
    weight = snapshot.strength[keep]
    key = low * n + high
    order = np.lexsort((-weight, key))
    key, weight = key[order], weight[order]
    first = np.concatenate([[True], key[1:] != key[:-1]]) if len(key) else np.zeros(0, bool)
    rows, cols, weight = key[first] // n, key[first] % n, weight[first]
    upper = sp.csr_array((weight, (rows, cols)), shape=(n, n))
    strength = (upper + upper.T).tocsr()
    adjacency = strength.copy()
    adjacency.data[:] = 1.0
    return adjacency, strength


def _pagerank_from_holders(snapshot: Snapshot, strength: sp.csr_array) -> F64:
    holders = np.flatnonzero(snapshot.holder)
    if len(holders) == 0:
        return np.zeros(snapshot.n)
    graph = nx.Graph()
    graph.add_nodes_from(range(snapshot.n))
    coo = sp.triu(strength, k=1).tocoo()
    graph.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    ranks = nx.pagerank(graph, personalization=dict.fromkeys(holders.tolist(), 1.0))
    values = np.array([ranks[i] for i in range(snapshot.n)], dtype=np.float64)
    return np.asarray(values * snapshot.n, dtype=np.float64)


def _community_share(snapshot: Snapshot, strength: sp.csr_array, seed: int) -> F64:
    coo = sp.triu(strength, k=1).tocoo()
    graph = GraphData.from_arrays(
        [str(i) for i in range(snapshot.n)], coo.row, coo.col, directed=False, weight=coo.data
    )
    labels = louvain(graph, seed=seed).labels
    holders = np.bincount(labels, weights=snapshot.holder.astype(np.float64))
    size = np.bincount(labels, weights=snapshot.known.astype(np.float64))
    return np.asarray(holders[labels] / np.maximum(size[labels], 1.0), dtype=np.float64)


def _scenario_features(snapshot: Snapshot) -> tuple[F64, F64]:
    n = snapshot.n
    customer, scenario = snapshot.part_customer, snapshot.part_scenario
    if len(scenario) == 0:
        return np.zeros(n), np.zeros(n)
    is_holder = snapshot.holder[customer].astype(np.float64)
    holders = np.bincount(scenario, weights=is_holder)
    members = np.bincount(scenario).astype(np.float64)
    others = holders[scenario] - is_holder  # a member does not count for themselves
    with_holder = np.zeros(n)
    np.maximum.at(with_holder, customer, (others > 0).astype(np.float64))
    share = np.zeros(n)
    np.maximum.at(share, customer, others / np.maximum(members[scenario] - 1.0, 1.0))
    return with_holder, share


def referral_features(snapshot: Snapshot, *, seed: int = 0) -> FeatureMatrix:
    """The documented features (module docstring) of every candidate of ``snapshot``.

    Parameters
    ----------
    snapshot : Snapshot
        The bank as of the cut-off day; nothing else is read.
    seed : int
        Seed of the Louvain communities.

    Returns
    -------
    FeatureMatrix
        One row per ``snapshot.candidates``, columns in ``FEATURES`` order.

    Examples
    --------
    Customer 1 is tied to holder 0 (0.8) and, through 1, customer 2 is two hops away.

    >>> from algorithms.referral_model.history import _Arrays, _i64, as_of
    >>> h = _Arrays(3, _i64([0, 1]), _i64([1, 2]), np.array([0.8, 0.5]), _i64([0, 0]),
    ...             _i64([0, 2]), _i64([0, 0]), _i64([0, 0]), _i64([0, 0, 0]),
    ...             _i64([0, 1, 0]), np.ones(3, dtype=bool), _i64([0, -1, -1]))
    >>> m = referral_features(as_of(h, 400))
    >>> m.column("holder_ties").tolist(), m.column("two_hop_strength").tolist()
    ([1.0, 0.0], [0.0, 0.4])
    >>> m.column("scenario_with_holder").tolist(), m.column("is_new").tolist()
    ([0.0, 1.0], [0.0, 0.0])
    """
    adjacency, strength = _matrices(snapshot)
    holder = snapshot.holder.astype(np.float64)
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    holder_ties = adjacency @ holder
    usable = degree >= 2  # a shared neighbour of two others has degree >= 2
    aa_weight = np.zeros(snapshot.n)
    aa_weight[usable] = 1.0 / np.log(degree[usable])
    ra_weight = np.zeros(snapshot.n)
    ra_weight[usable] = 1.0 / degree[usable]
    strongest = (strength @ sp.diags_array(holder)).tocsr().max(axis=1).toarray().ravel()
    with_holder, scenario_share = _scenario_features(snapshot)
    tenure = snapshot.tenure_days.astype(np.float64)
    columns = {
        "holder_ties": holder_ties,
        "holder_strength": strength @ holder,
        "strongest_holder_tie": strongest,
        # a path c-z-h with h = c cannot occur: candidates are not holders
        "common_neighbours": adjacency @ holder_ties,
        "two_hop_strength": strength @ (strength @ holder),
        "adamic_adar": adjacency @ (aa_weight * holder_ties),
        "resource_allocation": adjacency @ (ra_weight * holder_ties),
        "holder_pagerank": _pagerank_from_holders(snapshot, strength),
        "community_holder_share": _community_share(snapshot, strength, seed),
        "scenario_with_holder": with_holder,
        "scenario_holder_share": scenario_share,
        "tier": snapshot.tier.astype(np.float64),
        "tenure_years": tenure / 365.25,
        "is_new": (tenure < NEW_CUSTOMER_DAYS).astype(np.float64),
    }
    rows = snapshot.candidates
    values = np.stack([np.asarray(columns[name])[rows] for name in FEATURES], axis=1)
    return FeatureMatrix(FEATURES, rows, np.asarray(values, dtype=np.float64))
