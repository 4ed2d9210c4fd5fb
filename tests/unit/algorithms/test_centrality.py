"""Influence scores against networkx on random graphs with dangling nodes and weights."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from algorithms.graphdata import ConvergenceError, GraphData, InvalidGraphError
from algorithms.inproc.centrality import (
    betweenness,
    degree,
    pagerank,
    personalized_pagerank,
)


def _random_graph(seed: int, *, directed: bool = True, weighted: bool = True) -> nx.Graph:
    reference = nx.gnm_random_graph(120, 300, seed=seed, directed=directed)
    rng = np.random.default_rng(seed)
    if weighted:
        for u, v in reference.edges:
            reference[u][v]["weight"] = float(rng.uniform(0.1, 3.0))
    return reference


def _l1(scores: dict[str, float], expected: dict[object, float]) -> float:
    return sum(abs(scores[str(node)] - value) for node, value in expected.items())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_pagerank_equals_networkx(seed: int, directed: bool, weighted: bool) -> None:
    reference = _random_graph(seed, directed=directed, weighted=weighted)
    reference.add_nodes_from([1000, 1001])  # isolated, hence dangling
    if directed:
        assert any(reference.out_degree(v) == 0 for v in reference)
    expected = nx.pagerank(reference, alpha=0.85, tol=1e-13, max_iter=1000)
    result = pagerank(GraphData.from_networkx(reference), weighted=weighted)
    assert _l1(result.as_dict(), expected) < 1e-6
    assert result.values.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.iterations > 0


@pytest.mark.parametrize("seed", range(3))
def test_personalised_pagerank_equals_networkx(seed: int) -> None:
    reference = _random_graph(seed)
    seeds = {0: 1.0, 5: 3.0, 17: 0.5}
    expected = nx.pagerank(reference, personalization=seeds, tol=1e-13, max_iter=1000)
    result = personalized_pagerank(
        GraphData.from_networkx(reference), {str(k): v for k, v in seeds.items()}
    )
    assert _l1(result.as_dict(), expected) < 1e-6
    uniform = personalized_pagerank(GraphData.from_networkx(reference), ["0", "5"])
    expected_uniform = nx.pagerank(reference, personalization={0: 1, 5: 1}, tol=1e-13)
    assert _l1(uniform.as_dict(), expected_uniform) < 1e-6


def test_pagerank_parallel_edges_add_their_weights() -> None:
    parallel = GraphData.from_edges([("a", "b"), ("a", "b"), ("a", "c")], weight=[1, 1, 2])
    merged = GraphData.from_edges([("a", "b"), ("a", "c")], weight=[2, 2])
    assert np.allclose(pagerank(parallel).values, pagerank(merged).values, atol=1e-12)


def test_pagerank_refuses_bad_input_and_reports_non_convergence() -> None:
    g = GraphData.from_networkx(_random_graph(1))
    with pytest.raises(ConvergenceError) as caught:
        pagerank(g, max_iter=2)
    assert caught.value.max_iter == 2
    with pytest.raises(InvalidGraphError, match="negative"):
        pagerank(GraphData.from_edges([("a", "b")], weight=[-1.0]))
    with pytest.raises(InvalidGraphError, match="positive weight"):
        personalized_pagerank(g, {"0": 0.0})
    with pytest.raises(InvalidGraphError, match="at least one seed"):
        personalized_pagerank(g, [])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("normalized", [True, False])
def test_exact_betweenness_equals_networkx(seed: int, directed: bool, normalized: bool) -> None:
    reference = _random_graph(seed, directed=directed, weighted=False)
    expected = nx.betweenness_centrality(reference, normalized=normalized)
    result = betweenness(GraphData.from_networkx(reference), normalized=normalized)
    assert _l1(result.as_dict(), expected) < 1e-9


@pytest.mark.parametrize("directed", [True, False])
def test_weighted_betweenness_reads_weights_as_distances(directed: bool) -> None:
    reference = _random_graph(4, directed=directed)
    expected = nx.betweenness_centrality(reference, weight="weight")
    g = GraphData.from_networkx(reference)
    assert _l1(betweenness(g, weighted=True).as_dict(), expected) < 1e-9


def test_weighted_betweenness_needs_positive_distances() -> None:
    g = GraphData.from_edges([("a", "b"), ("b", "c")], weight=[0.0, 1.0])
    with pytest.raises(InvalidGraphError, match="positive"):
        betweenness(g, weighted=True)
    assert betweenness(g).as_dict()["b"] == 0.5  # one of the two ordered pairs


def test_betweenness_ignores_parallel_edges_and_self_loops() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "c")]
    simple = betweenness(GraphData.from_edges(edges)).as_dict()
    noisy = betweenness(GraphData.from_edges([*edges, ("a", "b"), ("b", "b")])).as_dict()
    assert noisy == simple


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("normalized", [True, False])
def test_sampled_betweenness_uses_networkx_estimator(directed: bool, normalized: bool) -> None:
    reference = _random_graph(6, directed=directed, weighted=False)
    g = GraphData.from_networkx(reference)
    k, seed = 30, 12
    result = betweenness(g, k=k, seed=seed, normalized=normalized)

    # The documented pivot choice, then networkx's own subset betweenness and its estimator.
    pivots = np.sort(np.random.default_rng(seed).choice(g.n_nodes, size=k, replace=False))
    pivot_nodes = [int(g.node_ids[i]) for i in pivots]
    subset = nx.betweenness_centrality_subset(
        reference, sources=pivot_nodes, targets=list(reference), normalized=False
    )
    n = g.n_nodes
    correction = 1 if directed else 2
    for node, value in subset.items():
        ordered = value * correction
        is_pivot = node in pivot_nodes
        sources = k - 1 if is_pivot else k
        scale = 1 / (sources * (n - 2)) if normalized else (n - 1) / (sources * correction)
        assert result[str(node)] == pytest.approx(ordered * scale, abs=1e-12)


class _FixedPivots(random.Random):
    """Makes networkx draw exactly the given pivots."""

    def __init__(self, pivots: list[int]) -> None:
        super().__init__(0)
        self.pivots = pivots

    def sample(self, population: object, k: int, **_: object) -> list[int]:  # type: ignore[override]
        assert k == len(self.pivots)
        return list(self.pivots)


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("normalized", [True, False])
def test_sampled_betweenness_equals_networkx_with_the_same_pivots(
    directed: bool, normalized: bool
) -> None:
    reference = _random_graph(8, directed=directed, weighted=False)
    g = GraphData.from_networkx(reference)
    k, seed = 25, 3
    pivots = np.sort(np.random.default_rng(seed).choice(g.n_nodes, size=k, replace=False))
    expected = nx.betweenness_centrality(
        reference,
        k=k,
        normalized=normalized,
        seed=_FixedPivots([int(g.node_ids[i]) for i in pivots]),
    )
    result = betweenness(g, k=k, seed=seed, normalized=normalized)
    assert _l1(result.as_dict(), expected) < 1e-9


def test_sampled_betweenness_approaches_exact() -> None:
    reference = _random_graph(2, directed=False, weighted=False)
    g = GraphData.from_networkx(reference)
    exact = betweenness(g).values
    estimates = np.mean([betweenness(g, k=60, seed=s).values for s in range(20)], axis=0)
    assert np.abs(estimates - exact).sum() / exact.sum() < 0.1
    assert np.allclose(betweenness(g, k=g.n_nodes).values, exact)


@pytest.mark.parametrize("directed", [True, False])
def test_degree_equals_networkx(directed: bool) -> None:
    reference = _random_graph(7, directed=directed)
    g = GraphData.from_networkx(reference)
    assert degree(g, normalized=True).as_dict() == pytest.approx(
        {str(k): v for k, v in nx.degree_centrality(reference).items()}
    )
    weighted = degree(g, weighted=True).as_dict()
    assert weighted == pytest.approx({str(k): v for k, v in reference.degree(weight="weight")})
    if directed:
        assert degree(g, direction="in").as_dict() == {
            str(k): float(v) for k, v in reference.in_degree()
        }
        assert degree(g, direction="out").as_dict() == {
            str(k): float(v) for k, v in reference.out_degree()
        }


def test_top_breaks_ties_by_id() -> None:
    g = GraphData.from_edges([("b", "x"), ("a", "x"), ("c", "y")])
    assert degree(g, direction="out").top(2) == [("a", 1.0), ("b", 1.0)]
    assert degree(g).top(0) == []
