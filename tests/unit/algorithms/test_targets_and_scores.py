"""Referral targets with reasons, referral influence, exposure for all, network value, scopes."""

from __future__ import annotations

import itertools
import math
import random

import networkx as nx
import pytest

from algorithms.graphdata import GraphData
from algorithms.inproc.exposures import exposure, exposure_totals
from algorithms.inproc.referral import (
    TARGET_WEIGHTS,
    referral_influence,
    score_referral_targets,
)
from algorithms.inproc.segmentation import network_value
from algorithms.paths import _search
from algorithms.scope import InvalidScopeError, Scope
from graph.read_models import TieColumns


def _weighted_social(seed: int, n: int = 60, m: int = 200) -> tuple[nx.Graph, GraphData]:
    rng = random.Random(seed)
    graph = nx.relabel_nodes(nx.gnm_random_graph(n, m, seed=seed), lambda v: f"c{v:02d}")
    for u, v in graph.edges:
        graph[u][v]["weight"] = round(rng.uniform(0.05, 1.0), 3)
    return graph, GraphData.from_networkx(graph)


@pytest.mark.parametrize("seed", range(4))
def test_target_signals_match_networkx_and_the_documented_score(seed: int) -> None:
    reference, g = _weighted_social(seed)
    rng = random.Random(seed)
    holders = sorted(rng.sample(sorted(reference), 12))
    eligible = sorted(rng.sample(sorted(reference), 45))
    influence = {node: rng.random() for node in reference}
    targets = score_referral_targets(g, holders, eligible=eligible, influence=influence, top_n=1000)
    assert targets, "a 60-node random graph has candidates"
    assert [t.rank for t in targets] == list(range(1, len(targets) + 1))
    assert [t.score for t in targets] == sorted((t.score for t in targets), reverse=True)
    ids = {t.candidate for t in targets}
    assert ids.isdisjoint(holders)
    assert ids <= set(eligible)
    # every eligible non-holder within two ties of a holder is a candidate
    near = {
        v
        for h in holders
        for v in nx.single_source_shortest_path_length(reference, h, cutoff=2)
        if v not in holders
    }
    assert ids == near & set(eligible)
    top_link = max(t.adamic_adar for t in targets)
    ranks = sorted(influence.values())
    for t in targets:
        pairs = [(t.candidate, h) for h in holders]
        assert t.adamic_adar == pytest.approx(
            sum(s for *_, s in nx.adamic_adar_index(reference, pairs))
        )
        assert t.resource_allocation == pytest.approx(
            sum(s for *_, s in nx.resource_allocation_index(reference, pairs))
        )
        assert t.common_neighbors == sum(
            len(list(nx.common_neighbors(reference, t.candidate, h))) for h in holders
        )
        neighbours = list(reference[t.candidate])
        held = [v for v in neighbours if v in holders]
        assert t.adoption_rate == pytest.approx(len(held) / len(neighbours))
        assert t.tie_strength == pytest.approx(
            max((reference[t.candidate][v]["weight"] for v in held), default=0.0)
        )
        # introducers: holders by their warmest path within two ties (brute force)
        warmth = {}
        for h in holders:
            best = reference[t.candidate][h]["weight"] if reference.has_edge(t.candidate, h) else 0
            for z in nx.common_neighbors(reference, t.candidate, h):
                best = max(best, reference[t.candidate][z]["weight"] * reference[z][h]["weight"])
            if best > 0:
                warmth[h] = best
        expected = sorted(warmth.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        assert [(i.node_id, pytest.approx(i.score)) for i in t.introducers] == expected
        for introducer in t.introducers:
            path = introducer.path
            assert path[0] == t.candidate
            assert path[-1] == introducer.node_id
            assert math.prod(reference[u][v]["weight"] for u, v in itertools.pairwise(path)) == (
                pytest.approx(introducer.score)
            )
        best_rank = sum(1 for v in ranks if v <= influence[expected[0][0]]) / len(ranks)
        assert t.introducer_influence == pytest.approx(best_rank)
        assert t.score == pytest.approx(
            TARGET_WEIGHTS["link"] * t.adamic_adar / top_link
            + TARGET_WEIGHTS["adoption"] * t.adoption_rate
            + TARGET_WEIGHTS["tie"] * t.tie_strength
            + TARGET_WEIGHTS["influence"] * t.introducer_influence
        )


@pytest.mark.parametrize("top_n", [1, 5, 17])
def test_top_n_is_exactly_the_head_of_the_full_ranking(top_n: int) -> None:
    reference, g = _weighted_social(9, n=80, m=300)
    holders = sorted(reference)[::9]
    influence = {node: (i * 7919 % 101) / 101 for i, node in enumerate(sorted(reference))}
    full = score_referral_targets(g, holders, influence=influence, top_n=10_000)
    head = score_referral_targets(g, holders, influence=influence, top_n=top_n)
    assert [(t.candidate, t.score) for t in head] == [(t.candidate, t.score) for t in full[:top_n]]


def test_no_holders_or_nobody_eligible_gives_no_targets() -> None:
    _, g = _weighted_social(1)
    assert score_referral_targets(g, []) == []
    assert score_referral_targets(g, ["c00"], eligible=[]) == []


@pytest.mark.parametrize("seed", range(3))
def test_referral_influence_counts_descendants_once_even_in_cycles(seed: int) -> None:
    reference = nx.relabel_nodes(nx.gnp_random_graph(40, 0.06, seed=seed, directed=True), str)
    g = GraphData.from_networkx(reference, weight=None)
    scores = referral_influence(g).as_dict()
    assert scores == {v: float(len(nx.descendants(reference, v))) for v in reference}


@pytest.mark.parametrize("direction", ["out", "in", "both"])
@pytest.mark.parametrize("seed", range(3))
def test_exposure_totals_equal_exposure_for_every_node(direction: str, seed: int) -> None:
    rng = random.Random(seed)
    edges = [(f"g{rng.randrange(30)}", f"g{rng.randrange(30)}") for _ in range(60)]
    amounts = [float(rng.randrange(1, 100)) for _ in edges]
    g = GraphData.from_edges(edges, amount=amounts)
    totals = exposure_totals(g, hops=3, decay=0.6, direction=direction)  # type: ignore[arg-type]
    for node in g.node_ids:
        expected = exposure(g, node, hops=3, decay=0.6, direction=direction).total  # type: ignore[arg-type]
        assert totals[node] == pytest.approx(expected), node


def test_network_value_blends_percentile_ranks() -> None:
    aum = {"a": 5.0, "b": 1.0, "c": 3.0, "d": None}
    pagerank = {"a": 0.1, "b": 0.4, "c": 0.3, "d": 0.2}
    values = network_value(aum, pagerank, value_weight=0.25)
    # ranks: aum a=4 b=2 c=3 d=1; pagerank a=1 b=4 c=3 d=2
    assert values == pytest.approx(
        {"a": (0.25 * 4 + 0.75 * 1) / 4, "b": (0.25 * 2 + 0.75 * 4) / 4, "c": 3 / 4, "d": 1.75 / 4}
    )


def test_paths_from_many_sources_match_a_brute_force_search() -> None:
    reference, _ = _weighted_social(3, n=40, m=90)
    ties = TieColumns(
        [u for u, _ in reference.edges],
        [v for _, v in reference.edges],
        [d["weight"] for *_, d in reference.edges(data=True)],
    )
    sources, target = ["c01", "c02", "c03"], "c30"
    found = _search(sources, target, ties, k=4, max_hops=4)
    brute = sorted(
        (
            math.prod(reference[u][v]["weight"] for u, v in itertools.pairwise(path)),
            tuple(path),
        )
        for s in sources
        for path in nx.all_simple_paths(reference, s, target, cutoff=4)
        if not set(path[1:]) & set(sources)
    )[::-1]
    assert [pytest.approx(p.strength) for p in found] == [s for s, _ in brute[:4]]
    for p in found:
        assert p.nodes[0] in sources
        assert p.nodes[-1] == target
        assert p.hops <= 4
        assert not set(p.nodes[1:]) & set(sources)
        assert all(reference.has_edge(u, v) for u, v in itertools.pairwise(p.nodes))


def test_scope_parsing() -> None:
    scope = Scope.parse(["scenario=S1", "branch=B2", "window=2024-01-01..2024-06-30"])
    assert scope.to_customer_scope().parameters()["scope_scenario_id"] == "S1"
    assert not scope.is_whole_graph
    assert scope.to_customer_scope().predicate("c") != "true"  # it restricts customers
    assert Scope.parse(["window=2024-01-01.."]).since_to is None
    for bad in (["community=louvain"], ["galaxy=x"], ["window=2024-02-01..2024-01-01"], ["x"]):
        with pytest.raises(InvalidScopeError):
            Scope.parse(bad)


def test_only_screened_holders_introduce_and_the_best_of_them_sets_influence() -> None:
    # h1 is the warmest introducer of z but may not be contacted (no consent, or flagged)
    ties = [("h1", "z"), ("h2", "m"), ("m", "z"), ("h2", "w")]
    g = GraphData.from_edges(ties, directed=False, weight=[0.9, 0.8, 0.5, 0.7])
    influence = {"h1": 0.9, "h2": 0.1, "z": 0.0, "m": 0.0, "w": 0.0}
    free = {t.candidate: t for t in score_referral_targets(g, ["h1", "h2"], influence=influence)}
    assert free["z"].introducers[0].node_id == "h1"
    screened = {
        t.candidate: t
        for t in score_referral_targets(
            g, ["h1", "h2"], influence=influence, introducers=["h2", "z", "m", "w"]
        )
    }
    assert [i.node_id for i in screened["z"].introducers] == ["h2"]
    assert screened["z"].introducers[0].path == ("z", "m", "h2")
    assert screened["z"].introducer_influence < free["z"].introducer_influence
    # h1 still holds the product: the link and tie signals are unchanged
    assert screened["z"].tie_strength == free["z"].tie_strength == 0.9
    # nobody may introduce: no referral can be made, so there is no target
    assert score_referral_targets(g, ["h1", "h2"], introducers=[]) == []
    only_h1 = score_referral_targets(g, ["h1", "h2"], introducers=["h1"])
    assert {t.candidate for t in only_h1} == {"z", "m"}  # w is two ties from h2 only
