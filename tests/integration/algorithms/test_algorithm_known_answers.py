"""Algorithms on graphs written into the emptied database: Zachary's karate club as a known
answer for the community algorithms on both engines, and the refusal of bad names and
parameters. (The tests on a generated bank, loaded once, are in test_algorithms.py.)"""

from __future__ import annotations

from collections import Counter

import networkx as nx
import pytest

from algorithms.registry import Engine
from algorithms.runner import InvalidParametersError, UnknownAlgorithmError, run_algorithm
from graph.settings import CrkgSettings
from graph.store import GraphStore

pytestmark = pytest.mark.db
ENGINES = [Engine.GDS, Engine.INPROC]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("algorithm", ["louvain", "leiden"])
async def test_karate_club_communities_respect_the_factions(
    empty_db: GraphStore, test_settings: CrkgSettings, engine: Engine, algorithm: str
) -> None:
    karate = nx.karate_club_graph()
    await empty_db.driver.execute_query(
        """
        UNWIND $edges AS e
        MERGE (a:Customer {customer_id: e[0]}) ON CREATE SET a.kind = 'PERSON', a.name = e[0]
        MERGE (b:Customer {customer_id: e[1]}) ON CREATE SET b.kind = 'PERSON', b.name = e[1]
        MERGE (a)-[:FRIEND {strength: e[2]}]->(b)
        """,
        # Zachary's interaction counts, as tie strengths in (0, 1]
        edges=[[f"K{u:02d}", f"K{v:02d}", w / 7.0] for u, v, w in karate.edges(data="weight")],
        database_=empty_db.database,
    )
    faction = {f"K{n:02d}": karate.nodes[n]["club"] for n in karate.nodes}
    result = await run_algorithm(empty_db, test_settings, algorithm, engine=engine)
    members: dict[str, list[str]] = {}
    for customer, community in result.values.items():
        members.setdefault(str(community), []).append(faction[customer])
    purity = sum(Counter(m).most_common(1)[0][1] for m in members.values()) / len(faction)
    assert purity >= 0.95, purity


async def test_bad_names_and_parameters_are_refused(
    empty_db: GraphStore, test_settings: CrkgSettings
) -> None:
    with pytest.raises(UnknownAlgorithmError):
        await run_algorithm(empty_db, test_settings, "pagerankk")
    with pytest.raises(InvalidParametersError, match="damping"):
        await run_algorithm(empty_db, test_settings, "pagerank", {"damping": 3})
    with pytest.raises(InvalidParametersError, match="dampin"):
        await run_algorithm(empty_db, test_settings, "pagerank", {"dampin": 0.5})
