"""Referral scores against networkx's link-prediction indices and Yen's paths."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from algorithms.graphdata import GraphData, InvalidGraphError
from algorithms.inproc.paths import warmest_paths
from algorithms.inproc.referral import link_prediction

NX_INDEX = {
    "adamic_adar": nx.adamic_adar_index,
    "resource_allocation": nx.resource_allocation_index,
}


def _social(seed: int) -> nx.Graph:
    return nx.relabel_nodes(nx.gnm_random_graph(70, 260, seed=seed), str)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("method", ["adamic_adar", "resource_allocation", "common_neighbors"])
def test_link_prediction_equals_networkx(seed: int, method: str) -> None:
    reference = _social(seed)
    g = GraphData.from_networkx(reference)
    candidates = [str(v) for v in range(0, 70, 3)]
    targets = [str(v) for v in range(1, 70, 4)] + ["0"]
    scores = link_prediction(g, candidates, targets, method=method)  # type: ignore[arg-type]
    for c, t in itertools.product(candidates, targets):
        if c == t:
            expected = 0.0
        elif method == "common_neighbors":
            expected = float(len(list(nx.common_neighbors(reference, c, t))))
        else:
            expected = next(iter(NX_INDEX[method](reference, [(c, t)])))[2]
        assert scores.score(c, t) == pytest.approx(expected, abs=1e-12)
    assert all(value > 0 for _, _, value in scores.pairs())


def test_link_prediction_reads_directed_and_parallel_edges_as_simple_ties() -> None:
    directed = GraphData.from_edges([("a", "z"), ("z", "b"), ("b", "z"), ("a", "a")])
    scores = link_prediction(directed, ["a"], ["b"], method="adamic_adar")
    assert scores.score("a", "b") == pytest.approx(1 / math.log(2))
    with pytest.raises(InvalidGraphError, match="unknown"):
        link_prediction(directed, ["a"], ["b"], method="jaccard")  # type: ignore[arg-type]


def _with_strengths(reference: nx.Graph, seed: int) -> nx.Graph:
    rng = np.random.default_rng(seed)
    for u, v in reference.edges:
        reference[u][v]["weight"] = float(rng.uniform(0.05, 1.0))
        reference[u][v]["cost"] = -math.log(reference[u][v]["weight"])
    return reference


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("directed", [True, False])
def test_warmest_paths_equal_networkx_yen(seed: int, directed: bool) -> None:
    reference = _with_strengths(
        nx.relabel_nodes(nx.gnm_random_graph(60, 180, seed=seed, directed=directed), str), seed
    )
    g = GraphData.from_networkx(reference)
    source, target = "0", "1"
    try:
        expected = list(
            itertools.islice(nx.shortest_simple_paths(reference, source, target, "cost"), 6)
        )
    except nx.NetworkXNoPath:
        expected = []
    paths = warmest_paths(g, source, target, k=6)
    assert [list(p.nodes) for p in paths] == expected
    for path in paths:
        strength = math.prod(reference[u][v]["weight"] for u, v in itertools.pairwise(path.nodes))
        assert path.strength == pytest.approx(strength)
        assert path.cost == pytest.approx(-math.log(strength))


@pytest.mark.parametrize("seed", range(4))
def test_warmest_paths_within_max_hops(seed: int) -> None:
    reference = _with_strengths(
        nx.relabel_nodes(nx.gnm_random_graph(40, 320, seed=seed, directed=True), str), seed
    )
    g = GraphData.from_networkx(reference)

    def cost(path: list[str]) -> float:
        return float(sum(reference[u][v]["cost"] for u, v in itertools.pairwise(path)))

    for source, target, max_hops in [("2", "3", 3), ("4", "5", 4), ("6", "7", 2)]:
        within = nx.all_simple_paths(reference, source, target, cutoff=max_hops)
        expected = sorted(within, key=cost)[:4]
        found = warmest_paths(g, source, target, k=4, max_hops=max_hops)
        assert [list(p.nodes) for p in found] == expected
        assert [p.cost for p in found] == pytest.approx([cost(path) for path in expected])
        if max_hops >= 3:
            assert len(found) == 4  # the comparison is not vacuous


def test_strongest_parallel_tie_counts_and_zero_strength_is_no_tie() -> None:
    g = GraphData.from_edges(
        [("a", "b"), ("a", "b"), ("b", "c"), ("a", "c")], weight=[0.2, 0.8, 0.5, 0.0]
    )
    paths = warmest_paths(g, "a", "c", k=3)
    assert [p.nodes for p in paths] == [("a", "b", "c")]
    assert paths[0].strength == pytest.approx(0.4)
    assert warmest_paths(g, "c", "a") == []


def test_warmest_paths_check_their_arguments() -> None:
    g = GraphData.from_edges([("a", "b")], weight=[1.5])
    with pytest.raises(InvalidGraphError, match="strengths"):
        warmest_paths(g, "a", "b")
    ok = GraphData.from_edges([("a", "b")])
    with pytest.raises(InvalidGraphError, match="same node"):
        warmest_paths(ok, "a", "a")
    with pytest.raises(InvalidGraphError, match="k must"):
        warmest_paths(ok, "a", "b", k=0)
    assert [p.nodes for p in warmest_paths(ok, "a", "b")] == [("a", "b")]
