"""k_core on both engines against networkx's core numbers (a known answer)."""

from __future__ import annotations

import networkx as nx
import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.settings import CrkgSettings
from graph.store import GraphStore

pytestmark = pytest.mark.db


def _oracle_graph() -> nx.Graph:
    """Zachary's karate club (cores 1 to 4), a 6-clique bridged to it and a lone customer."""
    graph = nx.relabel_nodes(nx.karate_club_graph(), lambda n: f"K{n:02d}")
    graph.add_edges_from(nx.relabel_nodes(nx.complete_graph(6), lambda n: f"Q{n}").edges)
    graph.add_edge("Q0", "K33")
    graph.add_node("LONE")
    return graph


@pytest.mark.parametrize("engine", [Engine.GDS, Engine.INPROC])
async def test_core_numbers_match_networkx(
    empty_db: GraphStore, test_settings: CrkgSettings, engine: Engine
) -> None:
    graph = _oracle_graph()
    await empty_db.driver.execute_query(
        """
        UNWIND $nodes AS id
        CREATE (:Customer {customer_id: id, kind: 'PERSON', name: id})
        WITH count(*) AS created
        UNWIND $edges AS e
        MATCH (a:Customer {customer_id: e[0]}), (b:Customer {customer_id: e[1]})
        CREATE (a)-[:FRIEND {strength: 0.5}]->(b)
        """,
        nodes=list(graph.nodes),
        edges=[list(edge) for edge in graph.edges],
        database_=empty_db.database,
    )
    expected = nx.core_number(graph)
    assert len(set(expected.values())) >= 4  # the answer is not one constant

    result = await run_algorithm(empty_db, test_settings, "k_core", engine=engine)

    assert result.values == expected
    stored, _, _ = await empty_db.driver.execute_query(
        "MATCH (c:Customer) RETURN c.customer_id AS id, c.score_k_core AS core",
        database_=empty_db.database,
    )
    assert {r["id"]: r["core"] for r in stored} == expected
