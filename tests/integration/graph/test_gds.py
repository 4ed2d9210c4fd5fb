"""GDS answers on the managed server, through the graphdatascience 2.x client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import networkx as nx
import pytest
from neo4j import AsyncDriver

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.gds import gds_client
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver, resolve_target
from loaders.bulk import bulk_load
from tests.integration.exports import write_bank
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db

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
    gds = gds_client(target)  # the process's client: not closed here
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

    by_customer = dict(zip(ids["customer_id"], scores["score"], strict=True))
    ranked = sorted(by_customer, key=lambda c: -by_customer[c])
    assert ranked[:3] == KNOWN_ORDER
    assert by_customer["c"] == pytest.approx(by_customer["e"])

    # GDS reports unnormalised scores; normalised they match networkx, the reference oracle.
    oracle = nx.pagerank(nx.DiGraph(EDGES), alpha=0.85, tol=1e-10, max_iter=1000)
    total = sum(by_customer.values())
    for customer, expected in oracle.items():
        assert by_customer[customer] / total == pytest.approx(expected, abs=1e-3)


# --- issue 9: a bank without every tie kind ---------------------------------------------------
@pytest.fixture(scope="module")
async def bank_without_some_ties(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GraphStore]:
    """A bank whose ties are FRIEND, FAMILY and COLLEAGUE only, bulk-imported into a fresh
    store: the database has never seen a CLASSMATE, BUSINESS or SPOUSE relationship, not even
    the type's token (an online load into the shared test database would find old tokens)."""
    bank = tmp_path_factory.mktemp("few-kinds") / "bank"
    write_bank(bank, customers=60, ties=150)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=test_settings.neo4j_database)
    await bulk_load(test_settings, bank)
    fresh = await open_driver(test_settings)
    try:
        store = GraphStore.from_settings(fresh, test_settings)
        records, _, _ = await fresh.execute_query(
            "CALL db.relationshipTypes() YIELD relationshipType "
            "RETURN collect(relationshipType) AS t",
            database_=store.database,
        )
        assert not {"CLASSMATE", "BUSINESS", "SPOUSE"} & set(records[0]["t"])
        yield store
    finally:
        await fresh.close()


async def test_gds_runs_on_a_bank_without_every_tie_kind(
    bank_without_some_ties: GraphStore, test_settings: CrkgSettings
) -> None:
    store = bank_without_some_ties
    result = await run_algorithm(store, test_settings, "pagerank", engine=Engine.GDS)
    inproc = await run_algorithm(store, test_settings, "pagerank", engine=Engine.INPROC)
    assert sum(result.values.values()) == pytest.approx(1.0)
    for customer, score in inproc.values.items():
        assert result.values[customer] == pytest.approx(score, abs=1e-4)
    assert result.summary["projected_relationships"] == 2 * 150  # undirected: each tie twice
    assert set(result.summary["tie_kinds_absent"]) == {"CLASSMATE", "BUSINESS", "SPOUSE"}
    only_absent = await run_algorithm(
        store, test_settings, "wcc", {"tie_kinds": ["CLASSMATE", "SPOUSE"]}, engine=Engine.GDS
    )
    assert len(set(only_absent.values.values())) == 60  # no ties of those kinds: singletons


def test_the_cli_runs_gds_on_that_bank(
    bank_without_some_ties: GraphStore, test_settings: CrkgSettings
) -> None:
    done = run_crkg(test_settings, "algo", "run", "pagerank", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "pagerank on gds" in done.stdout
    assert "Traceback" not in done.stderr
