"""Issue 4 on the real server: community profiles and stable ids, referral targets and paths,
the new scores, scopes and progress, checked against the generated bank's own files.

One bank is loaded for the module; the tests write results but never change the loaded data,
except the last one, which adds ties and removes them again.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from algorithms.graphdata import GraphData
from algorithms.inproc.centrality import pagerank
from algorithms.inproc.exposures import exposure
from algorithms.inproc.segmentation import network_value
from algorithms.paths import warmest_paths_between
from algorithms.registry import Engine
from algorithms.runner import AlgorithmRunResult, InvalidParametersError, run_algorithm
from algorithms.scope import Scope
from graph.money import parse_minor
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.integration.exports import in_force
from tests.support.banks import module_bank, query, read_csv

pytestmark = pytest.mark.db


bank, db = module_bank("referral-bank", customers=3000, seed=11)


def _social(bank: Path) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(r["customer_id"] for r in read_csv(bank / "customers.csv"))
    for r in read_csv(bank / "social.csv"):
        weight = float(r["strength"] or 1.0)
        if graph.has_edge(r["src_id"], r["dst_id"]):  # parallel ties of two kinds add up
            graph[r["src_id"]][r["dst_id"]]["weight"] += weight
        else:
            graph.add_edge(r["src_id"], r["dst_id"], weight=weight, since=r["since"])
    return graph


# --- communities -------------------------------------------------------------------------------
@pytest.mark.parametrize(("algorithm", "engine"), [("louvain", Engine.INPROC), ("wcc", Engine.GDS)])
async def test_community_profiles_describe_their_members(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, algorithm: str, engine: Engine
) -> None:
    first = await run_algorithm(db, test_settings, algorithm, engine=engine)
    result = await run_algorithm(db, test_settings, algorithm, engine=engine)
    nodes = await query(db, "MATCH (k:Community {algorithm: $a}) RETURN k {.*} AS k", a=algorithm)
    profiles = {n["k"]["local_id"]: n["k"] for n in nodes}
    members: dict[str, list[str]] = {}
    for customer, local in result.values.items():
        members.setdefault(local, []).append(customer)
    assert set(profiles) == set(members)  # one node per community, the first run's replaced
    assert {p["run_id"] for p in profiles.values()} == {result.run_id} != {first.run_id}
    assert result.summary["profiles"] == len(members)
    graph = _social(bank)
    tiers = {
        r["id"]: r["tier"]
        for r in await query(db, "MATCH (c:Customer) RETURN c.customer_id AS id, c.tier AS tier")
    }
    holdings = Counter(
        (r["customer_id"], r["product_id"])
        for r in read_csv(bank / "holdings.csv")
        if r["status"] != "CLOSED"
    )
    for local, group in members.items():
        profile = profiles[local]
        inside = graph.subgraph(group)
        assert profile["community_id"] == f"{algorithm}:{local}"
        assert profile["size"] == len(group)
        assert profile["internal_ties"] == inside.number_of_edges()
        assert set(profile["central_members"]) <= set(group)
        if profile["central_members"]:
            degree = dict(inside.degree())
            assert degree[profile["central_members"][0]] == max(degree.values())
        assert sum(json.loads(profile["tier_mix_json"]).values()) == len(group)
        assert Counter(tiers[c] or "UNKNOWN" for c in group) == json.loads(profile["tier_mix_json"])
        for product, share in json.loads(profile["product_penetration_json"]).items():
            held = sum(1 for c in group if (c, product) in holdings)
            assert share == pytest.approx(held / len(group), abs=1e-4)
        assert len(json.loads(profile["dominant_scenarios_json"])) <= 3


# --- referral targets --------------------------------------------------------------------------
async def _run_targets(db: GraphStore, settings: CrkgSettings, **params: Any) -> AlgorithmRunResult:
    return await run_algorithm(db, settings, "referral_targets", params)


async def _kept(
    db: GraphStore, returns: str, *, product: str, scenario: str = "*", source: str = "c:Customer"
) -> list[dict[str, Any]]:
    """``RETURN returns`` over the stored REFERRAL_TARGET relationships ``r`` from ``source``
    to ``product`` in ``scenario`` ('*': bank-wide)."""
    return await query(
        db,
        f"MATCH ({source})-[r:REFERRAL_TARGET {{scenario_id: $s}}]->(:Product {{product_id: $p}}) "
        f"RETURN {returns}",
        s=scenario,
        p=product,
    )


async def test_referral_targets_exclude_holders_no_consent_and_risk(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    # risk linkages first, so that membership in one flags a customer
    for name in ("guarantee_circles", "identifier_rings", "fund_cycles", "control_groups"):
        await run_algorithm(db, test_settings, name)
    await run_algorithm(db, test_settings, "pagerank", engine=Engine.INPROC)
    holdings = [r for r in read_csv(bank / "holdings.csv") if r["status"] != "CLOSED"]
    product = Counter(r["product_id"] for r in holdings).most_common(1)[0][0]
    holders = {r["customer_id"] for r in holdings if r["product_id"] == product}
    customers = {r["customer_id"]: r for r in read_csv(bank / "customers.csv")}
    flagged = {
        r["id"]
        for r in await query(
            db,
            "MATCH (c:Customer)-[:MEMBER_OF]->(:RiskLinkage) RETURN DISTINCT c.customer_id AS id",
        )
    }
    RISK_RATING_LIMIT = test_settings.risk_flag_rating
    excluded = (
        holders
        | flagged
        | {
            c
            for c, r in customers.items()
            if r["consent_marketing"] != "true"
            or (r["risk_rating"] and int(r["risk_rating"]) >= RISK_RATING_LIMIT)
        }
    )
    graph = _social(bank)
    near = {v for h in holders for v in nx.single_source_shortest_path_length(graph, h, cutoff=2)}
    # the exclusions matter: each kind removes someone who would otherwise be a candidate
    unfiltered = near - holders
    assert unfiltered & flagged
    assert any(customers[c]["consent_marketing"] != "true" for c in unfiltered)
    assert any(int(customers[c]["risk_rating"] or 0) >= RISK_RATING_LIMIT for c in unfiltered)

    result = await _run_targets(db, test_settings, product_id=product, top_n=200)
    rows = await _kept(db, "c.customer_id AS id, r {.*} AS r ORDER BY r.rank", product=product)
    assert 0 < len(rows) <= 200
    assert [r["r"]["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["id"] for r in rows] == result.values[product]
    assert not {r["id"] for r in rows} & excluded
    assert {r["id"] for r in rows} <= near
    scores = [r["r"]["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        introducers = json.loads(row["r"]["introducers_json"])
        assert 1 <= len(introducers) <= 3
        for introducer in introducers:
            assert introducer["customer_id"] in holders
            path = introducer["path"]
            assert path[0] == row["id"]
            assert path[-1] == introducer["customer_id"]
            assert len(path) <= 3
            assert all(graph.has_edge(u, v) for u, v in itertools.pairwise(path))
        assert row["r"]["run_id"] == result.run_id
        for key in (
            "adamic_adar",
            "common_neighbors",
            "resource_allocation",
            "adoption_rate",
            "tie_strength",
            "introducer_influence",
        ):
            assert isinstance(row["r"][key], float)

    again = await _run_targets(db, test_settings, product_id=product, top_n=50)
    count = await _kept(
        db, "count(r) AS n, collect(DISTINCT r.run_id) AS runs", product=product, source=""
    )
    assert count == [{"n": min(50, len(rows)), "runs": [again.run_id]}]

    # within a scenario: only its participants, as targets and introducers; '*' rows untouched
    members: dict[str, set[str]] = {}
    for r in read_csv(bank / "participation.csv"):
        members.setdefault(r["scenario_id"], set()).add(r["customer_id"])
    scenario = max(members, key=lambda s: len(members[s] & holders))
    scoped = await _run_targets(db, test_settings, product_id=product, scenario_id=scenario)
    in_scenario = await _kept(
        db, "c.customer_id AS id, r.introducers_json AS intro", product=product, scenario=scenario
    )
    assert in_scenario
    assert len(in_scenario) == len(scoped.values[product])
    for row in in_scenario:
        assert row["id"] in members[scenario]
        assert {i["customer_id"] for i in json.loads(row["intro"])} <= members[scenario] & holders
    assert (await _kept(db, "count(r) AS n", product=product, source=""))[0]["n"] == min(
        50, len(rows)
    )


# --- scores ------------------------------------------------------------------------------------
async def test_referral_influence_counts_converted_cascades_and_finds_planted_influencers(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    result = await run_algorithm(db, test_settings, "referral_influence")
    cascades = nx.DiGraph()
    cascades.add_nodes_from(r["customer_id"] for r in read_csv(bank / "customers.csv"))
    cascades.add_edges_from(
        (r["referrer_id"], r["referee_id"])
        for r in read_csv(bank / "referrals.csv")
        if r["converted"] == "true"
    )
    expected = {v: float(len(nx.descendants(cascades, v))) for v in cascades}
    assert result.values == expected
    stored = await query(
        db,
        "MATCH (c:Customer) RETURN c.customer_id AS id, c.score_referral_influence AS v, "
        "c.score_referral_influence_run_id AS run",
    )
    assert {r["id"]: r["v"] for r in stored} == expected
    assert {r["run"] for r in stored} == {result.run_id}
    # the generator's influencers refer at 0.5 per tie, everyone else at 0.12 or less
    planted = [r["customer_id"] for r in read_csv(bank / "ground_truth/influencers.csv")]
    ranked = sorted(expected, key=lambda c: -expected[c])
    top_decile = set(ranked[: len(ranked) // 10])
    assert sum(1 for c in planted if c in top_decile) >= 0.8 * len(planted)


@pytest.mark.parametrize("engine", [Engine.INPROC, Engine.GDS])
async def test_personalized_pagerank_is_seeded_by_a_products_holders(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, engine: Engine
) -> None:
    holdings = [r for r in read_csv(bank / "holdings.csv") if r["status"] != "CLOSED"]
    product = sorted(Counter(r["product_id"] for r in holdings).items(), key=lambda kv: kv[1])[0][0]
    seeds = {r["customer_id"] for r in holdings if r["product_id"] == product}
    result = await run_algorithm(
        db, test_settings, "personalized_pagerank", {"seed_product_id": product}, engine=engine
    )
    graph = _social(bank)
    reference = pagerank(
        GraphData.from_networkx(graph), personalization=dict.fromkeys(seeds, 1.0), tol=1e-12
    ).as_dict()
    l1 = sum(abs(result.values[c] - reference[c]) for c in reference)
    assert l1 <= 1e-3, l1
    run = await query(
        db,
        "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.parameters_json AS p, r.seeds_json AS s",
        id=result.run_id,
    )
    assert json.loads(run[0]["p"])["seed_product_id"] == product
    assert set(json.loads(run[0]["s"])) == seeds
    with pytest.raises(InvalidParametersError, match="exactly one"):
        await run_algorithm(db, test_settings, "personalized_pagerank", {})


async def test_exposure_equals_the_inproc_function(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    result = await run_algorithm(db, test_settings, "exposure", {"hops": 3, "decay": 0.4})
    everything = read_csv(bank / "guarantees.csv")
    rows = in_force(everything)  # ended guarantees are history, not exposure
    assert 0 < len(rows) < len(everything)
    graph = GraphData.from_edges(
        [(r["guarantor_id"], r["borrower_id"]) for r in rows],
        amount=[parse_minor(r["amount"]) for r in rows],  # integer minor units, exactly
    )
    for customer in graph.node_ids:
        expected = exposure(graph, customer, hops=3, decay=0.4).total
        assert result.values[customer] == expected, customer
        assert type(result.values[customer]) is int
    stored = await query(
        db,
        "MATCH (c:Customer) WHERE c.score_exposure_minor > 0 RETURN c.customer_id AS id, "
        "c.score_exposure_minor AS v",
    )
    assert {r["id"]: r["v"] for r in stored} == {k: v for k, v in result.values.items() if v}
    assert sum(1 for v in result.values.values() if v > 0) == len({r["guarantor_id"] for r in rows})


async def test_network_value_blends_stored_aum_and_pagerank(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    pr = await run_algorithm(db, test_settings, "pagerank", engine=Engine.INPROC)
    result = await run_algorithm(db, test_settings, "network_value", {"value_weight": 0.3})
    aum = {
        r["customer_id"]: parse_minor(r["aum"]) if r["aum"] else None
        for r in read_csv(bank / "customers.csv")
    }
    expected = network_value(aum, pr.values, value_weight=0.3)
    assert result.values == pytest.approx(expected)
    assert result.summary["pagerank"] == "read from score_pagerank"


# --- paths -------------------------------------------------------------------------------------
async def test_referral_paths_from_an_rm_book_are_the_warmest_real_paths(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    customers = read_csv(bank / "customers.csv")
    graph = _social(bank)
    rm = Counter(r["rm_id"] for r in customers if r["rm_id"]).most_common(1)[0][0]
    book = sorted(r["customer_id"] for r in customers if r["rm_id"] == rm)
    distance = nx.multi_source_dijkstra_path_length(graph, set(book), weight=lambda *_: 1)
    prospect = sorted(c for c, d in distance.items() if d == 3)[0]
    result = await run_algorithm(
        db,
        test_settings,
        "referral_paths",
        {"from_rm_id": rm, "to_customer_id": prospect, "k": 3, "max_hops": 4},
    )
    paths = result.summary["paths"]
    assert len(paths) == 3
    strengths = [p["strength"] for p in paths]
    assert strengths == sorted(strengths, reverse=True)
    # brute force: every simple path of <= 4 ties from the book. Each customer on such a path
    # is at most 4 ties from the book and the prospect together, so the search keeps to those
    # (the same paths as over the whole graph, without walking every 4-tie path of the book)
    to_prospect = nx.single_source_shortest_path_length(graph, prospect, cutoff=4)
    corridor = graph.subgraph(
        c for c, d in to_prospect.items() if d + distance.get(c, math.inf) <= 4
    )
    candidates = []
    for source in (c for c in book if c in corridor):
        for path in nx.all_simple_paths(corridor, source, prospect, cutoff=4):
            if set(path[1:]) & set(book):
                continue  # that path starts from the later book customer
            candidates.append(math.prod(graph[u][v]["weight"] for u, v in itertools.pairwise(path)))
    candidates.sort(reverse=True)
    assert strengths == pytest.approx(candidates[:3])
    for p in paths:
        assert p["nodes"][0] in book
        assert p["nodes"][-1] == prospect
        assert p["hops"] <= 4
        assert all(graph.has_edge(u, v) for u, v in itertools.pairwise(p["nodes"]))
    direct = await warmest_paths_between(db, book, prospect, k=3, max_hops=4)
    assert [p.nodes for p in direct] == [tuple(p["nodes"]) for p in paths]


# --- scopes and progress -----------------------------------------------------------------------
@pytest.mark.parametrize("engine", [Engine.INPROC, Engine.GDS])
async def test_a_scenario_scope_writes_its_members_beside_the_whole_graph_scores(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, engine: Engine
) -> None:
    members: dict[str, set[str]] = {}
    for r in read_csv(bank / "participation.csv"):
        members.setdefault(r["scenario_id"], set()).add(r["customer_id"])
    scenario = max(members, key=lambda s: len(members[s]))
    await query(
        db,
        "MATCH (c:Customer) REMOVE c.score_degree_scoped, c.score_degree_scoped_run_id",
    )
    whole = await run_algorithm(db, test_settings, "degree", engine=engine)
    result = await run_algorithm(
        db, test_settings, "degree", engine=engine, scope=Scope(scenario_id=scenario)
    )
    sub = _social(bank).subgraph(members[scenario])
    assert result.values == pytest.approx({c: float(d) for c, d in sub.degree()})
    stored = await query(
        db,
        "MATCH (c:Customer) WHERE c.score_degree_scoped IS NOT NULL "
        "RETURN c.customer_id AS id, c.score_degree_scoped_run_id AS run",
    )
    assert {r["id"] for r in stored} == members[scenario]
    assert {r["run"] for r in stored} == {result.run_id}
    # the whole-graph scores, which the API ranks, are the whole-graph run's
    untouched = await query(db, "MATCH (c:Customer) RETURN DISTINCT c.score_degree_run_id AS run")
    assert [r["run"] for r in untouched] == [whole.run_id]
    run = await query(
        db, "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.scope_json AS s", id=result.run_id
    )
    assert json.loads(run[0]["s"]) == {"scenario_id": scenario}


@pytest.mark.parametrize("engine", [Engine.INPROC, Engine.GDS])
async def test_a_window_scope_keeps_only_ties_formed_inside_it(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, engine: Engine
) -> None:
    window = Scope.parse(["window=2021-01-01..2023-12-31"])
    result = await run_algorithm(db, test_settings, "wcc", engine=engine, scope=window)
    kept = nx.Graph()
    kept.add_nodes_from(r["customer_id"] for r in read_csv(bank / "customers.csv"))
    kept.add_edges_from(
        (r["src_id"], r["dst_id"])
        for r in read_csv(bank / "social.csv")
        if r["since"] and "2021-01-01" <= r["since"] <= "2023-12-31"
    )
    expected = {frozenset(c) for c in nx.connected_components(kept)}
    found: dict[str, set[str]] = {}
    for customer, community in result.values.items():
        found.setdefault(community, set()).add(customer)
    assert {frozenset(c) for c in found.values()} == expected
    assert len(expected) < kept.number_of_nodes()  # the window left ties to find


async def test_scopes_are_refused_where_they_mean_nothing(
    db: GraphStore, test_settings: CrkgSettings
) -> None:
    with pytest.raises(InvalidParametersError, match="whole graph"):
        await run_algorithm(db, test_settings, "guarantee_circles", scope={"branch_id": "BR0001"})


async def test_progress_is_reported_and_recorded(
    db: GraphStore, test_settings: CrkgSettings
) -> None:
    seen: list[tuple[float, str]] = []
    result = await run_algorithm(
        db,
        test_settings,
        "leiden",
        engine=Engine.INPROC,
        on_progress=lambda fraction, stage: seen.append((fraction, stage)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert {"read", "compute", "write", "done"} <= {s for _, s in seen}
    run = await query(
        db,
        "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.progress AS p, r.stage AS s",
        id=result.run_id,
    )
    assert run == [{"p": 1.0, "s": "done"}]


# --- stable ids (changes the ties: keep it last) -----------------------------------------------
async def test_ids_survive_a_one_percent_change_in_ties(
    db: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    before = await run_algorithm(db, test_settings, "louvain", engine=Engine.INPROC)
    ties = read_csv(bank / "social.csv")
    customers = sorted(before.values)
    rng = random.Random(7)
    extra = [
        {"a": a, "b": b, "s": round(rng.uniform(0.1, 1.0), 3)}
        for a, b in (rng.sample(customers, 2) for _ in range(len(ties) // 100))
    ]
    await query(
        db,
        "UNWIND $rows AS row MATCH (a:Customer {customer_id: row.a}), (b:Customer {customer_id: row.b}) "
        "CREATE (a)-[:FRIEND {strength: row.s, source: 'perturbation'}]->(b)",
        rows=extra,
    )
    try:
        after = await run_algorithm(db, test_settings, "louvain", engine=Engine.INPROC)
    finally:
        await query(db, "MATCH ()-[r:FRIEND {source: 'perturbation'}]->() DELETE r")
    kept = sum(1 for c in customers if after.values[c] == before.values[c])
    assert kept >= 0.95 * len(customers), kept / len(customers)
    assert after.summary["kept_previous_id"] == kept
