"""Issue 9 on a generated bank: product eligibility and the one "risk-flagged" rule, applied
where marketing looks — targets and introducers (when the run picks them and again at read
time) and influencer lists — each checked against the bank's own files, not the Cypher."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.queries.screens import NEAR_DEFAULT, RISK_LINKAGE, RISK_RATING, RiskFlagRule
from graph.repositories.customers import CustomerRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import module_bank, query, read_csv

pytestmark = pytest.mark.db
TIERS = ("MASS", "AFFLUENT", "HIGH_NET_WORTH", "PRIVATE")
RISK = ("guarantee_circles", "identifier_rings", "fund_cycles", "control_groups")
bank, loaded = module_bank(
    "marketing-bank",
    customers=3000,
    seed=23,
    algorithms=(*RISK, "segmentation"),
    db_fixture="loaded",
)


@pytest.fixture(scope="module")
async def db(loaded: GraphStore, test_settings: CrkgSettings) -> GraphStore:
    await run_algorithm(loaded, test_settings, "pagerank", engine=Engine.INPROC)
    return loaded


def _age(birth: str, on: date) -> int | None:
    if not birth:
        return None
    b = date.fromisoformat(birth)
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


class Reference:
    """The rules computed in Python from the export (and the stored linkages and tiers)."""

    def __init__(self, bank: Path, members: set[str], tiers: dict[str, str | None]) -> None:
        self.customers = {r["customer_id"]: r for r in read_csv(bank / "customers.csv")}
        self.products = {r["product_id"]: r for r in read_csv(bank / "products.csv")}
        scenario_kind = {r["scenario_id"]: r["kind"] for r in read_csv(bank / "scenarios.csv")}
        self.scenario_kinds: dict[str, set[str]] = defaultdict(set)
        for r in read_csv(bank / "participation.csv"):
            self.scenario_kinds[r["customer_id"]].add(scenario_kind[r["scenario_id"]])
        self.tiers = tiers
        ties = nx.Graph()
        ties.add_nodes_from(self.customers)
        ties.add_edges_from((r["src_id"], r["dst_id"]) for r in read_csv(bank / "social.csv"))
        ties.add_edges_from(
            (r["guarantor_id"], r["borrower_id"]) for r in read_csv(bank / "guarantees.csv")
        )
        defaulted = {c for c, r in self.customers.items() if r["defaulted_at"]}
        self.defaulted = defaulted
        self.near_default = {v for d in defaulted for v in (d, *ties.neighbors(d))}
        self.members = members
        self.today = datetime.now(UTC).date()

    def reasons(self, customer: str) -> set[str]:
        row = self.customers[customer]
        found = set()
        if row["risk_rating"] and int(row["risk_rating"]) >= 4:
            found.add(RISK_RATING)
        if customer in self.members:
            found.add(RISK_LINKAGE)
        if customer in self.near_default:
            found.add(NEAR_DEFAULT)
        return found

    def contactable(self, customer: str) -> bool:
        return self.customers[customer]["consent_marketing"] == "true" and not self.reasons(
            customer
        )

    def eligible(self, customer: str, product: str) -> bool:
        rule, row = self.products[product], self.customers[customer]
        if rule["eligible_kinds"] and row["kind"] not in rule["eligible_kinds"].split(";"):
            return False
        age = _age(row["birth_date"], self.today)
        if rule["min_age"] and (age is None or age < int(rule["min_age"])):
            return False
        if rule["max_age"] and (age is None or age > int(rule["max_age"])):
            return False
        kinds = rule["eligible_scenario_kinds"]
        if kinds and not set(kinds.split(";")) & self.scenario_kinds[customer]:
            return False
        tier = self.tiers.get(customer)
        return not rule["min_tier"] or (
            tier is not None and TIERS.index(tier) >= TIERS.index(rule["min_tier"])
        )


@pytest.fixture(scope="module")
async def reference(db: GraphStore, bank: Path) -> Reference:
    members = {
        r["id"]
        for r in await query(
            db, "MATCH (c:Customer)-[:MEMBER_OF]->(:RiskLinkage) RETURN c.customer_id AS id"
        )
    }
    tiers = {
        r["id"]: r["tier"]
        for r in await query(db, "MATCH (c:Customer) RETURN c.customer_id AS id, c.tier AS tier")
    }
    return Reference(bank, members, tiers)


async def test_every_reason_fires_and_the_read_names_them(
    db: GraphStore, reference: Reference
) -> None:
    flags = await ReferralTargetRepository(db, risk_rule=RiskFlagRule()).risk_flags(
        list(reference.customers)
    )
    expected = {c: reference.reasons(c) for c in reference.customers}
    assert {c: set(r) for c, r in flags.items()} == {c: r for c, r in expected.items() if r}
    fired = {reason for reasons in flags.values() for reason in reasons}
    assert fired == {RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT}
    # near a default, and nothing else: the new reason alone flags people
    assert any(set(r) == {NEAR_DEFAULT} for r in flags.values())
    # a defaulted borrower inside a guarantee circle is flagged twice over
    assert any({RISK_LINKAGE, NEAR_DEFAULT} <= set(flags.get(d, ())) for d in reference.defaulted)
    wider = await ReferralTargetRepository(db, risk_rule=RiskFlagRule(default_hops=2)).risk_flags(
        list(reference.customers)
    )
    assert sum(NEAR_DEFAULT in r for r in wider.values()) > sum(
        NEAR_DEFAULT in r for r in flags.values()
    )


async def test_targets_and_introducers_meet_eligibility_and_screening(
    db: GraphStore, test_settings: CrkgSettings, reference: Reference
) -> None:
    result = await run_algorithm(db, test_settings, "referral_targets", {"top_n": 300})
    rows = await query(
        db,
        "MATCH (c:Customer)-[r:REFERRAL_TARGET {scenario_id: '*'}]->(p:Product) "
        "RETURN c.customer_id AS id, p.product_id AS product, r.introducers_json AS intro",
    )
    assert rows
    by_product: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_product[row["product"]].append(row)
    for row in rows:
        assert reference.eligible(row["id"], row["product"]), row
        assert reference.contactable(row["id"]), (row["id"], reference.reasons(row["id"]))
        introducers = json.loads(row["intro"])
        assert introducers  # a referral target always has someone to refer it
        for introducer in introducers:
            assert reference.contactable(introducer["customer_id"]), introducer
    # the example: a company product's targets are companies, a campus card's persons
    kinds = {
        p: {reference.customers[r["id"]]["kind"] for r in found} for p, found in by_product.items()
    }
    for product, rule in reference.products.items():
        if rule["eligible_kinds"] and product in kinds:
            assert kinds[product] <= set(rule["eligible_kinds"].split(";")), product
    assert any(
        rule["eligible_kinds"] == "COMPANY" for p, rule in reference.products.items() if p in kinds
    )
    # the screens matter: without them, flagged and ineligible customers would be targets
    summary = result.summary["products"]
    assert any(s["eligible"] < result.summary["contactable"] for s in summary.values())


async def test_the_stored_targets_are_screened_again_when_read(
    db: GraphStore, test_settings: CrkgSettings, reference: Reference, bank: Path
) -> None:
    held = Counter(r["product_id"] for r in read_csv(bank / "holdings.csv"))
    product = max(
        (p for p, r in reference.products.items() if r["eligible_kinds"] == "PERSON"),
        key=lambda p: held[p],
    )
    await run_algorithm(
        db, test_settings, "referral_targets", {"product_id": product, "top_n": 100}
    )
    views = ReferralTargetRepository(db)
    before = await views.screened(product, scenario_key="*", scenario_id=None, limit=100)
    assert len(before) >= 3
    assert all(r.introducers_dropped == 0 for r in before)
    target, other = before[0].customer_id, before[1].customer_id
    introducer = before[2].introducers[0].customer_id
    saved = await query(
        db,
        "UNWIND $ids AS id MATCH (c:Customer {customer_id: id}) "
        "RETURN id, c.risk_rating AS rating, c.defaulted_at AS defaulted",
        ids=[target, other, introducer],
    )
    try:
        # since the run: the target defaulted, another got a high rating, an introducer too
        await query(
            db,
            "MATCH (c:Customer {customer_id: $t}) SET c.defaulted_at = date('2026-11-01') "
            "WITH 1 AS x MATCH (o:Customer) WHERE o.customer_id IN [$o, $i] SET o.risk_rating = 5",
            t=target,
            o=other,
            i=introducer,
        )
        after = await views.screened(product, scenario_key="*", scenario_id=None, limit=100)
        ids = [r.customer_id for r in after]
        assert target not in ids
        assert other not in ids
        assert introducer not in ids
        assert all(introducer not in [i.customer_id for i in r.introducers] for r in after)
        assert any(r.introducers_dropped for r in after)
        # an eligibility rule changed after the run takes effect at read time too
        await query(
            db, "MATCH (p:Product {product_id: $p}) SET p.eligible_kinds = ['COMPANY']", p=product
        )
        assert await views.screened(product, scenario_key="*", scenario_id=None, limit=100) == []
    finally:
        await query(
            db,
            "UNWIND $saved AS s MATCH (c:Customer {customer_id: s.id}) "
            "SET c.risk_rating = s.rating, c.defaulted_at = s.defaulted",
            saved=saved,
        )
        await query(
            db, "MATCH (p:Product {product_id: $p}) SET p.eligible_kinds = ['PERSON']", p=product
        )


async def test_influencer_lists_name_the_flags_and_can_keep_only_the_contactable(
    db: GraphStore, reference: Reference
) -> None:
    views = CustomerRepository(db)
    everyone = await views.influencers("score_pagerank", limit=300)
    assert len(everyone) == 300
    for row in everyone:
        assert set(row.risk_flags) == reference.reasons(row.customer_id)
    assert any(row.risk_flags for row in everyone)
    # users review #2: the marketing list is the may_contact screen (consent and not
    # flagged), not only "not flagged"
    assert any(not reference.contactable(r.customer_id) and not r.risk_flags for r in everyone), (
        "the bank has unflagged customers without consent among the top 300"
    )
    screened = await views.influencers("score_pagerank", limit=300, contactable_only=True)
    assert len(screened) == 300
    assert all(reference.contactable(row.customer_id) for row in screened)
    assert all(row.risk_flags == [] for row in screened)
    # the screened list is the full ranking with the uncontactable taken out, in order
    kept = [r.customer_id for r in everyone if reference.contactable(r.customer_id)]
    assert [r.customer_id for r in screened][: len(kept)] == kept
