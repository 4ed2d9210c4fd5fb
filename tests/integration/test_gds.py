"""GDS answers on the managed server, through the graphdatascience 2.x client."""

from __future__ import annotations

import networkx as nx
import pytest

from algorithms.engines import gds_client
from graph.settings import CrkgSettings
from graph.store import GraphStore, resolve_target

# b, c, d and e all point at a; a points back at b only; e also points at d.
EDGES = [("b", "a"), ("c", "a"), ("d", "a"), ("e", "a"), ("a", "b"), ("e", "d")]
KNOWN_ORDER = ["a", "b", "d"]  # c and e (no in-links) share the last place


@pytest.fixture
async def small_graph(empty_db: GraphStore) -> None:
    await empty_db.driver.execute_query(
        """
        UNWIND $edges AS edge
        MERGE (s:Customer {customer_id: edge[0]}) ON CREATE SET s.kind = 'PERSON', s.name = edge[0]
        MERGE (t:Customer {customer_id: edge[1]}) ON CREATE SET t.kind = 'PERSON', t.name = edge[1]
        MERGE (s)-[:FRIEND {strength: 1.0}]->(t)
        """,
        edges=[list(edge) for edge in EDGES],
        database_=empty_db.database,
    )


def test_pagerank_on_a_known_graph(small_graph: None, test_settings: CrkgSettings) -> None:
    target = resolve_target(test_settings)
    gds = gds_client(target)
    try:
        assert gds.server_version().major == 2
        with gds.graph.project.native("crkg-test-pagerank", "Customer", "FRIEND") as projected:
            assert projected.node_count() == 5
            assert projected.relationship_count() == len(EDGES)
            scores = gds.page_rank.stream(
                projected, damping_factor=0.85, max_iterations=100, tolerance=1e-10
            )
            ids = gds.run_cypher(
                "UNWIND $ids AS id RETURN id, gds.util.asNode(id).customer_id AS customer_id",
                {"ids": [int(i) for i in scores["nodeId"]]},
            )
        assert not gds.graph.exists("crkg-test-pagerank")  # the with-block dropped it
    finally:
        gds.close()

    by_customer = dict(zip(ids["customer_id"], scores["score"], strict=True))
    ranked = sorted(by_customer, key=lambda c: -by_customer[c])
    assert ranked[:3] == KNOWN_ORDER
    assert by_customer["c"] == pytest.approx(by_customer["e"])

    # GDS reports unnormalised scores; normalised they match networkx, the reference oracle.
    oracle = nx.pagerank(nx.DiGraph(EDGES), alpha=0.85, tol=1e-10, max_iter=1000)
    total = sum(by_customer.values())
    for customer, expected in oracle.items():
        assert by_customer[customer] / total == pytest.approx(expected, abs=1e-3)
