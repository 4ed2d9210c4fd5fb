"""Algorithms on the real server: both engines, known answers, planted truth, parity, records."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from algorithms.graphdata import GraphData
from algorithms.inproc.community import modularity
from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.model import TieKind
from graph.money import parse_minor
from graph.repositories.customers import CustomerRepository
from graph.repositories.projections import ProjectionRepository
from graph.repositories.risk_linkages import RiskLinkageRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import module_bank, query

pytestmark = pytest.mark.db
ENGINES = [Engine.GDS, Engine.INPROC]


def _nmi(a: dict[str, str], b: dict[str, object]) -> float:
    keys = sorted(a)
    n = len(keys)
    joint = Counter((a[k], b[k]) for k in keys)
    pa, pb = Counter(a[k] for k in keys), Counter(b[k] for k in keys)
    mutual = sum(c / n * math.log(c * n / (pa[x] * pb[y])) for (x, y), c in joint.items())
    ha = -sum(c / n * math.log(c / n) for c in pa.values())
    hb = -sum(c / n * math.log(c / n) for c in pb.values())
    return 2 * mutual / (ha + hb)


# Generated and loaded once: every test here reads the bank, and what a test writes (results,
# runs, risk linkages, tiers) is what the next run of the same algorithm replaces, so no test
# depends on another having run or not. Tests that need the database emptied live in
# test_algorithm_known_answers.py.
bank, loaded = module_bank("algo-bank", customers=2000, seed=5, db_fixture="loaded")


async def _graph(store: GraphStore) -> GraphData:
    repository = ProjectionRepository(store)
    ties = (await repository.tie_columns(list(TieKind))).rows()
    return GraphData.from_edges(
        [(s, d) for s, d, _ in ties],
        nodes=await repository.customer_ids(),
        directed=False,
        weight=[w for _, _, w in ties],
    )


async def test_engine_parity_on_the_same_graph(
    loaded: GraphStore, test_settings: CrkgSettings
) -> None:
    graph = await _graph(loaded)
    pr = {e: await run_algorithm(loaded, test_settings, "pagerank", engine=e) for e in ENGINES}
    l1 = sum(abs(pr[Engine.GDS].values[k] - pr[Engine.INPROC].values[k]) for k in graph.node_ids)
    assert l1 <= 1e-3, l1

    wcc = {e: await run_algorithm(loaded, test_settings, "wcc", engine=e) for e in ENGINES}
    groups = {
        e: {frozenset(k for k, v in r.values.items() if v == c) for c in set(r.values.values())}
        for e, r in wcc.items()
    }
    assert groups[Engine.GDS] == groups[Engine.INPROC]

    q = {}
    for e in ENGINES:
        result = await run_algorithm(loaded, test_settings, "louvain", engine=e)
        q[e] = modularity(graph, {k: hash(v) for k, v in result.values.items()})
    assert abs(q[Engine.GDS] - q[Engine.INPROC]) <= 0.02 * q[Engine.INPROC], q


@pytest.mark.parametrize("engine", ENGINES)
async def test_planted_communities_are_recovered(
    loaded: GraphStore, test_settings: CrkgSettings, bank: Path, engine: Engine
) -> None:
    with (bank / "ground_truth" / "communities.csv").open(encoding="utf-8") as handle:
        planted = {r["customer_id"]: r["community_id"] for r in csv.DictReader(handle)}
    result = await run_algorithm(loaded, test_settings, "louvain", engine=engine)
    assert _nmi(planted, result.values) >= 0.9


RUN_STATE = (
    "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.status AS status, r.engine AS engine, "
    "r.node_count AS nodes, r.progress AS progress"
)


async def test_runs_are_recorded_and_ids_stay_stable(
    loaded: GraphStore, test_settings: CrkgSettings
) -> None:
    first = await run_algorithm(loaded, test_settings, "louvain", engine=Engine.INPROC)
    second = await run_algorithm(loaded, test_settings, "louvain", engine=Engine.INPROC)
    assert second.summary["kept_previous_id"] == len(second.values)
    assert second.values == first.values
    records = await query(loaded, RUN_STATE, id=second.run_id)
    assert records[0] == {
        "status": "SUCCEEDED",
        "engine": "inproc",
        "nodes": len(second.values),
        "progress": 1.0,
    }
    written = await CustomerRepository(loaded).read_result("community_louvain")
    assert written == second.values


def _truth(bank: Path, name: str) -> list[dict[str, Any]]:
    with (bank / "ground_truth" / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


async def test_every_planted_risk_linkage_is_found_and_nothing_else(
    loaded: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    circles = await run_algorithm(loaded, test_settings, "guarantee_circles")
    assert {tuple(m) for m in circles.values.values()} == {
        tuple(c["members"]) for c in _truth(bank, "guarantee_circles.jsonl")
    }
    rings = await run_algorithm(loaded, test_settings, "identifier_rings")
    assert {frozenset(m) for m in rings.values.values()} == {
        frozenset(r["members"]) for r in _truth(bank, "identifier_rings.jsonl")
    }
    cycles = await run_algorithm(loaded, test_settings, "fund_cycles")
    assert {frozenset(m) for m in cycles.values.values()} == {
        frozenset(c["members"]) for c in _truth(bank, "fund_cycles.jsonl")
    }
    groups = await run_algorithm(loaded, test_settings, "control_groups")
    assert {(m[0], frozenset(m[1:])) for m in groups.values.values()} == {
        (g["controller"], frozenset(g["companies"])) for g in _truth(bank, "control_groups.jsonl")
    }

    records, _, _ = await loaded.driver.execute_query(
        "MATCH (l:RiskLinkage) OPTIONAL MATCH (l)<-[m:MEMBER_OF]-(:Customer) "
        "RETURN l.kind AS kind, count(DISTINCT l) AS linkages, count(m) AS members",
        database_=loaded.database,
    )
    stored = {r["kind"]: (r["linkages"], r["members"]) for r in records}
    for kind, result in (
        ("GUARANTEE_CIRCLE", circles),
        ("IDENTIFIER_RING", rings),
        ("FUND_CYCLE", cycles),
        ("CONTROL_GROUP", groups),
    ):
        assert stored[kind] == (len(result.values), sum(len(m) for m in result.values.values())), (
            kind
        )

    again = await run_algorithm(loaded, test_settings, "guarantee_circles")
    assert set(again.values) == set(circles.values)  # same ids: re-runs replace, not add
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (l:RiskLinkage {kind: 'GUARANTEE_CIRCLE'}) RETURN count(l) AS c",
        database_=loaded.database,
    )
    assert records[0]["c"] == len(circles.values)


async def test_segmentation_writes_tier_and_stage_for_every_customer(
    loaded: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    result = await run_algorithm(
        loaded, test_settings, "segmentation", {"tier_thresholds": [100_000, 1e6, 6e6]}
    )
    with (bank / "customers.csv").open(encoding="utf-8") as handle:
        aum = {r["customer_id"]: float(r["aum"]) for r in csv.DictReader(handle) if r["aum"]}
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (c:Customer) RETURN c.customer_id AS id, c.tier AS tier, c.lifecycle_stage AS stage",
        database_=loaded.database,
    )
    stored = {r["id"]: (r["tier"], r["stage"]) for r in records}
    for customer, value in aum.items():
        expected = (
            "PRIVATE"
            if value >= 6e6
            else "HIGH_NET_WORTH"
            if value >= 1e6
            else "AFFLUENT"
            if value >= 100_000
            else "MASS"
        )
        assert stored[customer][0] == expected, customer
    assert set(result.summary["stages"]) == {"NEW", "ACTIVE", "CHURN_RISK", "DORMANT"}
    assert Counter(stage for _, stage in stored.values()) == Counter(result.summary["stages"])


def _minor(text: str) -> int:
    return parse_minor(text) if text else 0


async def test_risk_linkages_store_exact_money_and_what_is_shared(
    loaded: GraphStore, test_settings: CrkgSettings, bank: Path
) -> None:
    """Issue 9: circles and cycles carry integer sums, rings say which identifier kinds they
    share, control groups carry their loans, guarantees out and total exposure."""
    for name in ("guarantee_circles", "identifier_rings", "fund_cycles", "control_groups"):
        await run_algorithm(loaded, test_settings, name)
    views = RiskLinkageRepository(loaded)

    with (bank / "guarantees.csv").open(encoding="utf-8") as handle:
        guarantees = [
            (r["guarantor_id"], r["borrower_id"], _minor(r["amount"]))
            for r in csv.DictReader(handle)
        ]
    amount = {(g, b): a for g, b, a in guarantees}
    circles = await views.listed("GUARANTEE_CIRCLE", min_size=2, max_size=10, limit=1000)
    assert circles
    for circle in circles:
        ids = [m.customer_id for m in circle.members]
        links = zip(ids, ids[1:] + ids[:1], strict=True)
        assert circle.amount_minor == sum(amount[link] for link in links)
        assert type(circle.amount_minor) is int
    by_amount = await views.listed(
        "GUARANTEE_CIRCLE", min_size=2, max_size=10, limit=1000, order_by="amount"
    )
    amounts = [c.amount_minor for c in by_amount]
    assert amounts == sorted(amounts, reverse=True)

    truth = {frozenset(r["members"]): r["kind"] for r in _truth(bank, "identifier_rings.jsonl")}
    rings = await views.listed("IDENTIFIER_RING", min_size=2, max_size=1000, limit=1000)
    assert {r.shared_kinds[0] for r in rings} == set(truth.values())
    for ring in rings:
        members = frozenset(m.customer_id for m in ring.members)
        assert ring.shared_kinds == [truth[members]]
        assert ring.identifier_count == 1  # one planted device or phone each
        assert ring.score == pytest.approx(len(members) - 1)

    cycles = await views.listed("FUND_CYCLE", min_size=2, max_size=10, limit=1000)
    planted = {
        frozenset(c["members"]): [_minor(t["amount"]) for t in c["transfers"]]
        for c in _truth(bank, "fund_cycles.jsonl")
    }
    for cycle in cycles:
        paid = planted[frozenset(m.customer_id for m in cycle.members)]
        assert cycle.amount_minor == sum(paid)
        assert cycle.min_amount_minor == min(paid)

    with (bank / "products.csv").open(encoding="utf-8") as handle:
        loans = {r["product_id"] for r in csv.DictReader(handle) if r["category"] == "LOAN"}
    balance: Counter[str] = Counter()
    with (bank / "holdings.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["product_id"] in loans and r["status"] != "CLOSED":
                balance[r["customer_id"]] += _minor(r["balance"])
    groups = await views.control_groups(first=1000)
    assert len(groups) == len(_truth(bank, "control_groups.jsonl"))
    for group in groups:
        members = {m.customer_id for m in group.members}
        loans_minor = sum(balance[m] for m in members)
        out = sum(a for g, b, a in guarantees if g in members and b not in members)
        assert (group.loan_balance_minor, group.guarantees_out_minor) == (loans_minor, out)
        assert group.total_exposure_minor == loans_minor + out
    totals = [g.total_exposure_minor for g in groups]
    assert totals == sorted(totals, reverse=True)
    assert any(g.loan_balance_minor for g in groups)
    with pytest.raises(ValueError, match="ordered by"):
        await views.control_groups(first=5, order_by="name")
