"""Risk linkages against networkx and brute-force enumerations."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest

from algorithms.graphdata import GraphData, InvalidGraphError, UnknownNodeError
from algorithms.inproc.cycles import CircleKind, fund_flow_cycles, guarantee_circles
from algorithms.inproc.exposures import exposure, exposure_totals
from algorithms.inproc.risk import related_party_groups, shared_identifier_rings


def _rotated(cycle: list[str]) -> tuple[str, ...]:
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


# --- guarantee circles ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_length", [2, 3, 5, 8])
def test_circles_equal_networkx_simple_cycles(seed: int, max_length: int) -> None:
    reference = nx.gnm_random_graph(40, 110 + 10 * seed, seed=seed, directed=True)
    reference = nx.relabel_nodes(reference, {v: f"c{v:02d}" for v in reference})
    g = GraphData.from_networkx(reference)
    expected = {
        _rotated(cycle)
        for cycle in nx.simple_cycles(reference, length_bound=max_length)
        if len(cycle) >= 2
    }
    circles = guarantee_circles(g, max_length=max_length)
    found = [circle.members for circle in circles]
    assert len(found) == len(set(found))
    assert set(found) == expected
    assert all(circle.members[0] == min(circle.members) for circle in circles)
    assert [c.length for c in circles] == sorted(c.length for c in circles)


def test_circle_search_is_not_fooled_by_long_cycles() -> None:
    # A 2-cycle inside a component whose other cycles are long: igraph 1.0 loses it.
    edges = [(0, 1), (1, 8), (2, 4), (3, 9), (4, 9), (5, 6), (6, 8), (7, 0), (8, 2), (8, 5),
             (9, 3), (9, 7)]  # fmt: skip
    g = GraphData.from_edges([(str(u), str(v)) for u, v in edges])
    found = {circle.members for circle in guarantee_circles(g, max_length=10)}
    assert found == {("3", "9"), ("5", "6", "8"), ("0", "1", "8", "2", "4", "9", "7")}


def test_circle_amounts_kinds_and_parallel_guarantees() -> None:
    g = GraphData.from_edges(
        [("b", "a"), ("a", "b"), ("a", "b"), ("b", "c"), ("c", "a"), ("d", "d")],
        amount=[10.0, 1.0, 2.0, 5.0, 7.0, 99.0],
    )
    circles = guarantee_circles(g, max_length=4)
    assert [(c.members, c.kind) for c in circles] == [
        (("a", "b"), CircleKind.MUTUAL),
        (("a", "b", "c"), CircleKind.CIRCLE),
    ]
    assert (circles[0].total_amount, circles[0].min_amount) == (13.0, 3.0)
    assert (circles[1].total_amount, circles[1].min_amount) == (15.0, 3.0)
    longer = guarantee_circles(g, min_length=3)
    assert [c.members for c in longer] == [("a", "b", "c")]
    unpriced = guarantee_circles(GraphData.from_edges([("x", "y"), ("y", "x")]))
    assert unpriced[0].total_amount is None


def test_circles_refuse_undirected_graphs_and_bad_bounds() -> None:
    with pytest.raises(InvalidGraphError, match="directed"):
        guarantee_circles(GraphData.from_edges([("a", "b")], directed=False))
    with pytest.raises(InvalidGraphError, match="min_length"):
        guarantee_circles(GraphData.from_edges([("a", "b")]), min_length=1)


def test_circles_on_a_large_sparse_graph_are_found_fast() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    a, b = rng.integers(0, n, 300_000), rng.integers(0, n, 300_000)
    src, dst = np.minimum(a, b), np.maximum(a, b)  # acyclic background
    planted = [rng.choice(n, size=size, replace=False) for size in (2, 3, 4, 5)]
    src = np.concatenate([src, *planted])
    dst = np.concatenate([dst, *[np.roll(cycle, -1) for cycle in planted]])
    keep = src != dst
    g = GraphData(
        node_ids=tuple(f"c{i}" for i in range(n)), src=src[keep], dst=dst[keep], amount=None
    )
    found = {circle.members for circle in guarantee_circles(g, max_length=6)}
    assert found == {_rotated([f"c{i}" for i in cycle.tolist()]) for cycle in planted}


# --- fund-flow cycles ----------------------------------------------------------------------
def _brute_force_cycles(
    g: GraphData, window: float, min_length: int, max_length: int
) -> set[tuple[int, ...]]:
    assert g.time is not None
    found = set()
    for length in range(min_length, max_length + 1):
        for edges in itertools.permutations(range(g.n_edges), length):
            nodes = [int(g.src[e]) for e in edges]
            times = [float(g.time[e]) for e in edges]
            if (
                all(int(g.dst[edges[i]]) == nodes[(i + 1) % length] for i in range(length))
                and len(set(nodes)) == length
                and all(t1 < t2 for t1, t2 in itertools.pairwise(times))
                and times[-1] - times[0] <= window
            ):
                found.add(edges)
    return found


@pytest.mark.parametrize("seed", range(8))
def test_fund_flow_cycles_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 6, 16
    src = rng.integers(0, n, m)
    dst = (src + rng.integers(1, n, m)) % n  # no self-transfers
    times = rng.integers(0, 12, m).astype(float)  # coarse, so equal times occur
    g = GraphData.from_arrays("abcdef", src, dst, time=times, amount=rng.integers(1, 9, m))
    for window, max_length in [(5.0, 3), (20.0, 4), (0.0, 4)]:
        found = fund_flow_cycles(g, window=window, max_length=max_length)
        edges = [cycle.edges for cycle in found]
        assert len(edges) == len(set(edges))
        assert set(edges) == _brute_force_cycles(g, window, 2, max_length)
        assert [c.start for c in found] == sorted(c.start for c in found)
        for cycle in found:
            assert cycle.members == tuple(g.node_ids[g.src[e]] for e in cycle.edges)
            assert cycle.amounts is not None
            assert cycle.min_amount == min(cycle.amounts)
            assert cycle.end - cycle.start <= window


def test_fund_flow_limit_and_requirements() -> None:
    edges = [("a", "b"), ("b", "a")] * 3
    g = GraphData.from_edges(edges, time=[1, 2, 3, 4, 5, 6])
    # a->b at 1, 3, 5 and b->a at 2, 4, 6: six cycles start with a, three with b.
    assert len(fund_flow_cycles(g, window=10)) == 9
    assert len(fund_flow_cycles(g, window=10, limit=2)) == 2
    assert fund_flow_cycles(g, window=10)[0].amounts is None
    with pytest.raises(InvalidGraphError, match="times"):
        fund_flow_cycles(GraphData.from_edges(edges), window=10)
    with pytest.raises(InvalidGraphError, match="window"):
        fund_flow_cycles(g, window=-1)


# --- control -------------------------------------------------------------------------------
def _groups(
    edges: Sequence[tuple[str, str, float]], **options: object
) -> dict[str, tuple[str, ...]]:
    g = GraphData.from_edges([(u, v) for u, v, _ in edges], weight=[p for _, _, p in edges])
    return {
        group.controller: group.controlled
        for group in related_party_groups(g, **options)  # type: ignore[arg-type]
    }


def test_control_follows_majority_chains() -> None:
    assert _groups([("A", "B", 60), ("B", "C", 70)]) == {"A": ("B", "C"), "B": ("C",)}


def test_control_combines_holdings_of_controlled_companies() -> None:
    edges = [("A", "B", 60), ("A", "D", 30), ("B", "D", 30)]
    assert _groups(edges)["A"] == ("B", "D")
    # Without control of B, A's 30 % and B's 30 % are not one bloc.
    assert "A" not in _groups([("A", "B", 40), ("A", "D", 30), ("B", "D", 30)])


def test_control_needs_strictly_more_than_the_threshold() -> None:
    assert _groups([("A", "B", 50)]) == {}
    assert _groups([("A", "B", 50), ("A", "B", 1)]) == {"A": ("B",)}  # two share classes
    assert _groups([("A", "B", 40)], threshold=30.0) == {"A": ("B",)}


def test_control_through_a_long_chain_and_ultimate_controllers() -> None:
    edges = [("P", "Q", 51), ("Q", "R", 51), ("R", "S", 26), ("Q", "S", 25), ("X", "Y", 80)]
    g = GraphData.from_edges([(u, v) for u, v, _ in edges], weight=[p for _, _, p in edges])
    groups = related_party_groups(g)
    assert [(gr.controller, gr.controlled, gr.ultimate) for gr in groups] == [
        ("P", ("Q", "R", "S"), True),
        ("Q", ("R", "S"), False),
        ("X", ("Y",), True),
    ]
    assert [gr.controller for gr in related_party_groups(g, ultimate_only=True)] == ["P", "X"]


def test_cross_holdings_do_not_make_a_company_control_itself() -> None:
    groups = _groups([("A", "B", 60), ("B", "A", 60), ("B", "C", 10), ("A", "C", 45)])
    assert groups == {"A": ("B", "C"), "B": ("A", "C")}


def test_control_needs_percentages() -> None:
    with pytest.raises(InvalidGraphError, match="percentage"):
        related_party_groups(GraphData.from_edges([("A", "B")]))


# --- shared identifiers --------------------------------------------------------------------
def test_rings_equal_components_of_the_customer_projection() -> None:
    rng = np.random.default_rng(5)
    uses = {(f"c{rng.integers(0, 60)}", f"id{rng.integers(0, 50)}") for _ in range(90)}
    g = GraphData.from_edges(sorted(uses))
    bipartite = nx.Graph(sorted(uses))
    customers = {c for c, _ in uses}
    projection = nx.bipartite.projected_graph(bipartite, customers)
    expected = {
        frozenset(component)
        for component in nx.connected_components(projection)
        if len(component) >= 2
    }
    rings = shared_identifier_rings(g)
    assert {frozenset(ring.members) for ring in rings} == expected
    for ring in rings:
        users = {i: sum((c, i) in uses for c in customers) for i in ring.identifiers}
        assert all(count >= 2 for count in users.values())
        assert ring.score == pytest.approx(sum(c * (c - 1) for c in users.values()) / ring.size)
    assert [r.score for r in rings] == sorted((r.score for r in rings), reverse=True)


def test_rings_ignore_identifiers_shared_too_widely() -> None:
    uses = [(f"c{i}", "switchboard") for i in range(6)] + [("c1", "dev"), ("c2", "dev")]
    g = GraphData.from_edges(uses)
    assert [r.size for r in shared_identifier_rings(g)] == [6]
    capped = shared_identifier_rings(g, max_sharing=5)
    assert [(r.members, r.identifiers, r.score) for r in capped] == [(("c1", "c2"), ("dev",), 1.0)]
    assert shared_identifier_rings(g, min_size=7) == []


def test_rings_count_repeated_use_once_and_refuse_mixed_roles() -> None:
    g = GraphData.from_edges([("c1", "p"), ("c1", "p"), ("c2", "p")])
    assert shared_identifier_rings(g)[0].score == 1.0
    with pytest.raises(InvalidGraphError, match="both"):
        shared_identifier_rings(GraphData.from_edges([("c1", "p"), ("p", "x")]))


# --- exposure ------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", ["out", "in", "both"])
def test_exposure_reaches_what_networkx_bfs_reaches(direction: str) -> None:
    reference = nx.gnm_random_graph(100, 180, seed=2, directed=True)
    rng = np.random.default_rng(2)
    for u, v in reference.edges:
        reference[u][v]["amount"] = float(rng.integers(1, 100))
    g = GraphData.from_networkx(reference, amount="amount")
    walk = {
        "out": reference,
        "in": reference.reverse(),
        "both": reference.to_undirected(as_view=True),
    }[direction]
    distance = nx.single_source_shortest_path_length(walk, 0, cutoff=3)
    result = exposure(g, "0", hops=3, decay=0.5, direction=direction)  # type: ignore[arg-type]
    assert {p.node_id: p.hop for p in result.parties} == {
        str(v): d for v, d in distance.items() if d > 0
    }
    for party in result.parties:
        node = int(party.node_id)
        feeding = [u for u, d in distance.items() if d == party.hop - 1]
        if direction == "out":
            amount = sum(
                reference[u][node]["amount"] for u in feeding if reference.has_edge(u, node)
            )
            assert party.amount == amount
        # minor units, decayed exactly and rounded half-even once per value (issue 9)
        exact = Fraction(party.amount) * Fraction(1, 2) ** (party.hop - 1)
        assert party.weighted_amount == round(exact)
    exact_total = sum(Fraction(p.amount) * Fraction(1, 2) ** (p.hop - 1) for p in result.parties)
    assert result.total == round(exact_total)
    assert len(result.by_hop) == 3


def test_exposure_without_amounts_counts_links_and_checks_arguments() -> None:
    g = GraphData.from_edges([("a", "b"), ("c", "b"), ("b", "d")], directed=False)
    result = exposure(g, "a", hops=5, decay=1.0)
    assert {(p.node_id, p.hop, p.amount) for p in result.parties} == {
        ("b", 1, 1.0),
        ("c", 2, 1.0),
        ("d", 2, 1.0),
    }
    assert result.by_hop == (1.0, 2.0, 0.0, 0.0, 0.0)
    with pytest.raises(UnknownNodeError):
        exposure(g, "zz")
    with pytest.raises(InvalidGraphError, match="decay"):
        exposure(g, "a", decay=2.0)
    with pytest.raises(InvalidGraphError, match="hops"):
        exposure(g, "a", hops=0)


# --- money is exact (issue 9) -----------------------------------------------------------------
def test_exposure_is_exact_minor_units_rounded_half_even_once() -> None:
    # 3 + 3 x 0.5 = 4.5 minor units: half-even gives 4; a float sum would store 4.5
    g = GraphData.from_edges([("me", "x"), ("x", "y")], amount=[3, 3])
    totals = exposure_totals(g, hops=2, decay=0.5)
    assert totals == {"me": 4, "x": 3, "y": 0}
    assert all(type(v) is int for v in totals.values())
    assert exposure(g, "me", hops=2, decay=0.5).total == 4
    # decay 0.1 is one tenth exactly, not the float 0.1000000000000000055...
    big = GraphData.from_edges(
        [("me", "x"), ("x", "y"), ("x", "z")], amount=[1436572154, 1436572155, 5]
    )
    expected = 1436572154 + Fraction(1436572160, 10)
    assert exposure_totals(big, hops=2, decay=0.1)["me"] == round(expected) == 1580229370
    result = exposure(big, "me", hops=2, decay=0.1)
    assert result.by_hop == (1436572154, 143657216)
    assert all(type(p.amount) is int and type(p.weighted_amount) is int for p in result.parties)


def test_exposure_refuses_amounts_that_are_not_whole_minor_units() -> None:
    g = GraphData.from_edges([("me", "x")], amount=[2.5])
    with pytest.raises(InvalidGraphError, match="minor units"):
        exposure_totals(g)
    with pytest.raises(InvalidGraphError, match="minor units"):
        exposure(g, "me")


def test_circle_and_cycle_amounts_are_integer_sums() -> None:
    g = GraphData.from_edges([("a", "b"), ("b", "a")], amount=[2**52 + 1, 3])
    (circle,) = guarantee_circles(g)
    assert circle.total_amount == 2**52 + 4
    assert type(circle.total_amount) is int
    assert type(circle.min_amount) is int
    cycles = fund_flow_cycles(
        GraphData.from_edges([("a", "b"), ("b", "a")], amount=[7, 5], time=[1.0, 2.0]),
        window=10,
    )
    assert cycles[0].amounts == (7, 5)
    assert (cycles[0].total_amount, cycles[0].min_amount) == (12, 5)


def test_rings_say_which_identifier_kinds_they_share() -> None:
    uses = [("c1", "DEVICE:aa"), ("c2", "DEVICE:aa"), ("c2", "PHONE:bb"), ("c3", "PHONE:bb"),
            ("c4", "DEVICE:cc"), ("c5", "DEVICE:cc"), ("c4", "EMAIL:dd")]  # fmt: skip
    rings = shared_identifier_rings(GraphData.from_edges(uses))
    by_members = {r.members: r for r in rings}
    assert by_members[("c1", "c2", "c3")].shared_kinds == ("DEVICE", "PHONE")
    assert by_members[("c4", "c5")].shared_kinds == ("DEVICE",)  # c4's e-mail is not shared
    assert by_members[("c1", "c2", "c3")].identifiers == ("DEVICE:aa", "PHONE:bb")
