"""Hold-out groups randomised by community (graph cluster randomisation, Ugander et al.,
KDD 2013): treatment ``T`` and control ``C`` are assigned to whole clusters of the list, so
referrals and spill-over through ties stay inside one arm. Pure functions, no database.

The rules, all deterministic from the list version's seed:

1. **Clusters.** A list row's cluster is its stored community (the Louvain run the list
   version records, or another stored community run named for the hold-out). A community
   holding more than ``max_cluster_share`` (1%) of the list's rows is split along its own
   sub-communities first: the stored run keeps no hierarchy, so the split is networkx
   Louvain (``louvain_communities``, resolution 1, weight = the ties' ``strength`` summed
   per pair) on the community's induced subgraph (every customer of the
   community, listed or not), seeded from the list's seed and the community id; a
   sub-community still too big is split again (at most :data:`MAX_SPLIT_DEPTH` levels) while
   the split makes progress. A row without a community is a cluster of its own. Cluster keys
   read ``"<community>"`` or ``"<community>/<sub>/<sub>…"``.
2. **Arms.** Complete randomisation over clusters: the clusters in key order are permuted by
   ``numpy.random.default_rng([seed, SALT])`` and the first ``round(share × clusters)`` of the
   permutation are control, so each customer is in control with probability ≈ ``share``.
3. **Cross-arm flag.** A row whose ties to other rows of the list lead into the other arm for
   more than ``cross_arm_threshold`` (0.5) of them is flagged (``cross_arm``): its outcome may
   carry spill-over from the other arm. Rows without ties to the list are not flagged.
4. **Sample-ratio mismatch.** ``scipy.stats.binomtest`` of the control count against the
   planned share over all rows; ``srm_warning`` when its p-value is below :data:`SRM_ALPHA`
   (0.001, the usual SRM threshold — it also leaves room for the extra variance that whole
   clusters give the arms' sizes).

Examples
--------
>>> rows = [{"customer_id": f"C{i}", "reasons": {"community": str(i % 4)}} for i in range(8)]
>>> done = assign(rows, HoldoutPlan(share=0.5), seed=7, community_edges={}, list_edges=[])
>>> arms = {r["reasons"]["community"]: {x["treatment"] for x in done.rows
...         if x["reasons"]["community"] == r["reasons"]["community"]} for r in done.rows}
>>> all(len(a) == 1 for a in arms.values()), sorted(done.arms.items())
(True, [('C', 4), ('T', 4)])
>>> srm_check(control=300, total=1000, share=0.5)[1], srm_check(500, 1000, 0.5)[1]
(True, False)
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import networkx as nx
import numpy as np
from scipy.stats import binomtest

from graph.errors import CrkgError

TREATED: Final = "T"
CONTROL: Final = "C"
SALT: Final = 0x401D  # the assignment's own stream of the seed
SRM_ALPHA: Final = 0.001
MAX_SPLIT_DEPTH: Final = 3
MAX_HOLDOUT_SHARE: Final = 0.5
SPLIT_METHOD: Final = "networkx-louvain"

Edge = tuple[str, str, float]


@dataclass(frozen=True)
class HoldoutPlan:
    """The hold-out's parameters (all part of a version's hash when ``share`` > 0)."""

    share: float  # the planned control share, 0 < share ≤ 0.5
    max_cluster_share: float = 0.01  # a community above this share of the list is split
    cross_arm_threshold: float = 0.5  # flagged above this share of ties into the other arm

    def __post_init__(self) -> None:
        if not 0.0 < self.share <= MAX_HOLDOUT_SHARE:
            raise CrkgError(f"bad hold-out: share must be in (0, {MAX_HOLDOUT_SHARE}]")

    def to_json(self) -> dict[str, Any]:
        return {
            "share": self.share,
            "max_cluster_share": self.max_cluster_share,
            "cross_arm_threshold": self.cross_arm_threshold,
            "split": SPLIT_METHOD,
            "srm_alpha": SRM_ALPHA,
        }


@dataclass(frozen=True)
class Assignment:
    rows: list[dict[str, Any]]  # the rows with treatment, cluster, cross_arm(_share)
    arms: dict[str, int]
    clusters: int
    srm_p_value: float
    srm_warning: bool

    def summary(self, plan: HoldoutPlan) -> dict[str, Any]:
        """What the version's content and manifest record of the hold-out."""
        return {
            **plan.to_json(),
            "arms": dict(self.arms),
            "clusters": self.clusters,
            "cross_arm_rows": sum(1 for r in self.rows if r["cross_arm"]),
            "srm_p_value": self.srm_p_value,
            "srm_warning": self.srm_warning,
        }


def srm_check(control: int, total: int, share: float) -> tuple[float, bool]:
    """The sample-ratio mismatch test: (p-value, warning) of ``control`` of ``total`` rows
    against the planned control ``share`` (exact binomial test, two-sided)."""
    if total <= 0:
        return 1.0, False
    p_value = round(float(binomtest(control, total, share).pvalue), 12)
    return p_value, p_value < SRM_ALPHA


def _seed_for(seed: int, key: str) -> int:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _graph(nodes: Iterable[str], edges: Iterable[Edge]) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(sorted(set(nodes)))
    weights: dict[tuple[str, str], float] = defaultdict(float)
    for a, b, w in edges:
        if a != b:
            weights[(min(a, b), max(a, b))] += float(w)
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(weights.items()))
    return graph


def split(
    key: str, members: Sequence[str], graph: nx.Graph, *, limit: float, seed: int, depth: int = 0
) -> dict[str, str]:
    """The cluster key of each listed member of one community (``graph``: its induced
    subgraph): ``key`` itself while it holds at most ``limit`` members, else its Louvain
    sub-communities (``key/0``, ``key/1``… by their smallest customer id), split again."""
    if len(members) <= limit or depth >= MAX_SPLIT_DEPTH or graph.number_of_nodes() < 2:
        return {m: key for m in members}
    parts = nx.community.louvain_communities(
        graph, weight="weight", resolution=1.0, seed=_seed_for(seed, key)
    )
    if len(parts) < 2:
        return {m: key for m in members}  # no sub-communities: the community stays whole
    found: dict[str, str] = {}
    for index, part in enumerate(sorted(parts, key=min)):
        inside = [m for m in members if m in part]
        if inside:
            sub = graph.subgraph(sorted(part))
            found |= split(f"{key}/{index}", inside, sub, limit=limit, seed=seed, depth=depth + 1)
    return found


def _community(row: Mapping[str, Any], named: Mapping[str, str | None] | None) -> str | None:
    if named is None:
        found = row["reasons"].get("community")
        return None if found is None else str(found)
    return named.get(str(row["customer_id"]))


def clusters(
    rows: Sequence[Mapping[str, Any]],
    plan: HoldoutPlan,
    *,
    seed: int,
    community_edges: Mapping[str, Sequence[Edge]],
    named: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """Each row's cluster key (customer id → key); ``community_edges`` holds the ties inside
    each community that is to be split (a community absent from it cannot be split).
    ``named``: each customer's community in another stored run than the rows' reasons give."""
    by_community: dict[str | None, list[str]] = defaultdict(list)
    for row in rows:
        by_community[_community(row, named)].append(str(row["customer_id"]))
    limit = plan.max_cluster_share * len(rows)
    found: dict[str, str] = {}
    for community, members in sorted(by_community.items(), key=lambda kv: str(kv[0])):
        if community is None:
            found |= {m: f"~{m}" for m in members}  # no community: a cluster of one
            continue
        if community not in community_edges:
            found |= {m: community for m in members}  # no ties read: it stays whole
            continue
        edges = community_edges[community]
        graph = _graph([*members, *(e[0] for e in edges), *(e[1] for e in edges)], edges)
        found |= split(community, members, graph, limit=limit, seed=seed)
    return found


def oversized(
    rows: Sequence[Mapping[str, Any]],
    plan: HoldoutPlan,
    named: Mapping[str, str | None] | None = None,
) -> list[str]:
    """The communities of ``rows`` holding more than the plan's share of the list (the ones
    whose induced subgraph :func:`assign` needs)."""
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        community = _community(row, named)
        if community is not None:
            counts[community] += 1
    return sorted(k for k, n in counts.items() if n > plan.max_cluster_share * len(rows))


def assign(
    rows: Sequence[Mapping[str, Any]],
    plan: HoldoutPlan,
    *,
    seed: int,
    community_edges: Mapping[str, Sequence[Edge]],
    list_edges: Iterable[tuple[str, str]],
    named: Mapping[str, str | None] | None = None,
) -> Assignment:
    """Treatment and control by cluster, the cross-arm flags and the SRM check (see the
    module's rules); ``list_edges`` are the ties between customers of the list; ``named``
    (customer id → community) replaces the rows' own community when another run is named."""
    cluster_of = clusters(rows, plan, seed=seed, community_edges=community_edges, named=named)
    keys = sorted(set(cluster_of.values()))
    order = np.random.default_rng([seed, SALT]).permutation(len(keys))
    n_control = round(plan.share * len(keys))
    if keys and n_control == 0:
        raise CrkgError(
            f"a hold-out of {plan.share:g} over {len(keys)} clusters puts no cluster in control",
            hint="a larger holdoutShare, or no hold-out (0)",
        )
    control = {keys[int(i)] for i in order[:n_control]}
    arm = {c: CONTROL if k in control else TREATED for c, k in cluster_of.items()}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for a, b in list_edges:
        if a != b and a in arm and b in arm:
            neighbours[a].add(b)
            neighbours[b].add(a)
    assigned = []
    for row in rows:
        customer = str(row["customer_id"])
        ties = neighbours.get(customer, set())
        across = sum(1 for n in ties if arm[n] != arm[customer])
        share = round(across / len(ties), 6) if ties else 0.0
        assigned.append(
            {
                **row,
                "treatment": arm[customer],
                "cluster": cluster_of[customer],
                "cross_arm_share": share,
                "cross_arm": share > plan.cross_arm_threshold,
            }
        )
    arms = {TREATED: 0, CONTROL: 0}
    for row in assigned:
        arms[row["treatment"]] += 1
    p_value, warning = srm_check(arms[CONTROL], len(assigned), plan.share)
    return Assignment(assigned, arms, len(keys), p_value, warning)
