"""GraphData: construction, validation, immutability and the conversions engines rely on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import networkx as nx
import numpy as np
import pytest

from algorithms.graphdata import GraphData, InvalidGraphError, UnknownNodeError


def test_from_edges_numbers_nodes_in_order_of_first_appearance() -> None:
    g = GraphData.from_edges([("b", "a"), ("a", "c")], nodes=["z"], weight=[2, 3])
    assert g.node_ids == ("z", "b", "a", "c")
    assert g.src.tolist() == [1, 2]
    assert g.dst.tolist() == [2, 3]
    assert g.weight is not None
    assert g.weight.dtype == np.float64
    assert g.index_of("c") == 3
    assert g.indices_of(["a", "z"]).tolist() == [2, 0]


def test_arrays_are_read_only_copies() -> None:
    src = np.array([0, 1])
    g = GraphData(node_ids=("a", "b", "c"), src=src, dst=np.array([1, 2]))
    src[0] = 2
    assert g.src[0] == 0
    with pytest.raises(ValueError, match="read-only"):
        g.src[0] = 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"src": [0, 3], "dst": [1, 2]}, "outside"),
        ({"src": [0, -1], "dst": [1, 2]}, "outside"),
        ({"src": [0, 1], "dst": [1]}, "dst has 1 values"),
        ({"src": [0, 1], "dst": [1, 2], "weight": [1.0]}, "weight has 1 values"),
        ({"src": [0, 1], "dst": [1, 2], "amount": [1.0, np.nan]}, "NaN"),
    ],
)
def test_invalid_arrays_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidGraphError, match=message):
        GraphData(node_ids=("a", "b", "c"), **kwargs)  # type: ignore[arg-type]


def test_duplicate_node_ids_are_refused() -> None:
    with pytest.raises(InvalidGraphError, match="unique"):
        GraphData(node_ids=("a", "a"), src=np.array([0]), dst=np.array([1]))


def test_unknown_node_carries_its_id() -> None:
    g = GraphData.from_edges([("a", "b")])
    with pytest.raises(UnknownNodeError) as caught:
        g.index_of("nobody")
    assert caught.value.node_id == "nobody"
    assert "nobody" in str(caught.value)


def test_times_accept_dates_and_datetimes_as_utc_seconds() -> None:
    g = GraphData.from_edges(
        [("a", "b")] * 3,
        time=[date(1970, 1, 2), datetime(1970, 1, 1, 0, 1), datetime(1970, 1, 1, 1, tzinfo=UTC)],
    )
    assert g.time is not None
    assert g.time.tolist() == [86400.0, 60.0, 3600.0]


def test_csr_sums_parallel_edges_and_symmetrises_undirected() -> None:
    g = GraphData.from_edges([("a", "b"), ("a", "b"), ("b", "b")], weight=[1, 2, 5])
    assert g.to_csr().toarray().tolist() == [[0, 3], [0, 5]]
    assert g.to_csr(weighted=False).toarray().tolist() == [[0, 2], [0, 1]]
    u = GraphData.from_edges([("a", "b"), ("b", "b")], weight=[2, 5], directed=False)
    ref = nx.to_scipy_sparse_array(u.to_networkx(), nodelist=list(u.node_ids)).toarray()
    assert np.array_equal(u.to_csr().toarray(), ref)


def test_networkx_round_trip_keeps_edges_and_attributes() -> None:
    reference = nx.gnm_random_graph(30, 80, seed=4, directed=True)
    rng = np.random.default_rng(4)
    for u, v in reference.edges:
        reference[u][v]["weight"] = float(rng.random())
        reference[u][v]["amount"] = float(rng.integers(1, 100))
    g = GraphData.from_networkx(reference, amount="amount")
    back = g.to_networkx()
    assert back.number_of_edges() == reference.number_of_edges()
    for u, v, data in reference.edges(data=True):
        assert back[str(u)][str(v)] == data


def test_to_networkx_multigraph_keeps_parallel_edges() -> None:
    g = GraphData.from_edges([("a", "b"), ("a", "b")], time=[1.0, 2.0])
    assert g.to_networkx(multigraph=True).number_of_edges() == 2
    simple = g.to_networkx()
    assert simple["a"]["b"]["time"] == 1.0


def test_with_edges_shares_nodes_and_filters_attributes() -> None:
    g = GraphData.from_edges([("a", "b"), ("b", "c"), ("c", "a")], amount=[1, 2, 3])
    g.index_of("a")
    view = g.with_edges(np.array([True, False, True]))
    assert view.node_ids is g.node_ids
    assert view.n_edges == 2
    assert view.amount is not None
    assert view.amount.tolist() == [1.0, 3.0]
    assert view.index_of("c") == 2
    assert not view.amount.flags.writeable


def test_repr_is_short_for_big_graphs() -> None:
    g = GraphData.from_arrays(map(str, range(10_000)), src=[], dst=[])
    assert repr(g) == "GraphData(n_nodes=10000, n_edges=0, directed=True, attributes=[])"
