"""``crkg erase`` on ids that are awkward as text, on the real server.

A small bank whose customer ids collide with other values or need escaping: ``P1`` (also the
product's id), ``Shanghai`` (also the city everyone lives in) and ``H"1`` (a holder and the
introducer of T1 and T2, whose id JSON writes as ``H\\"1``). Each is erased once; nothing of
anyone else may change, and no form of the erased id may stay.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.repositories.erasure import ErasureRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from loaders.rejects import RejectReason
from tests.conftest import load_into_empty_db
from tests.support.banks import query, read_csv
from tests.support.campaign_bank import write

pytestmark = pytest.mark.db

QUOTED = 'H"1'
PEOPLE = [QUOTED, "T1", "T2", "P1", "Shanghai", "C1", "C1 A", "C1/2"]


def bank(folder: Path) -> Path:
    write(folder, "relationship_managers", [{"rm_id": "RM1", "name": "经理"}])
    write(
        folder,
        "customers",
        [
            {"customer_id": c, "kind": "PERSON", "name": f"客户{c}", "city": "Shanghai",
             "rm_id": "RM1", "phone": f"1380000{i:04d}", "consent_marketing": "true"}
            for i, c in enumerate(PEOPLE)
        ],
    )  # fmt: skip
    write(folder, "products", [{"product_id": "P1", "name": "卡", "category": "CREDIT_CARD"}])
    write(folder, "holdings", [{"customer_id": QUOTED, "product_id": "P1"}])
    write(
        folder,
        "social",
        [
            {"src_id": QUOTED, "dst_id": t, "kind": "FRIEND", "strength": "0.8"}
            for t in ("T1", "T2")
        ],
    )
    return folder


async def snapshot(store: GraphStore) -> dict[str, object]:
    """What must not change: the product, the other people's cities, the targets' product."""
    product = await query(store, "MATCH (p:Product) RETURN p.product_id AS id")
    cities = await query(
        store,
        "MATCH (c:Customer) WHERE c.customer_id IN ['T1', 'T2'] "
        "RETURN c.customer_id AS id, c.city AS city ORDER BY id",
    )
    targets = await query(
        store,
        "MATCH (c:Customer)-[:REFERRAL_TARGET]->(p:Product) "
        "RETURN c.customer_id AS id, p.product_id AS product ORDER BY id",
    )
    others = await query(
        store,
        "MATCH (c:Customer) WHERE c.customer_id IN ['C1 A', 'C1/2'] OR c.name STARTS WITH '客户C1' "
        "RETURN c.customer_id AS id, c.name AS name ORDER BY name",
    )
    return {"product": product, "cities": cities, "targets": targets, "others": others}


@pytest.fixture(scope="module")
async def edge_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[GraphStore, dict[str, object], dict[str, object], Path]:
    root = tmp_path_factory.mktemp("erasure-edges")
    store = await load_into_empty_db(driver, test_settings, bank(root / "bank"), root / "rejects")
    await run_algorithm(
        store, test_settings, "referral_targets", {"product_id": "P1"}, engine=Engine.INPROC
    )
    before = await snapshot(store)
    assert before["targets"] == [
        {"id": "T1", "product": "P1"},
        {"id": "T2", "product": "P1"},
    ], 'T1 and T2 are targets of P1 introduced by H"1'
    escaped = json.dumps(QUOTED)[1:-1]
    stored = await query(
        store, "MATCH ()-[r:REFERRAL_TARGET]->() RETURN r.introducers_json AS intro"
    )
    assert all(escaped in r["intro"] for r in stored), "the introducer is in the JSON, escaped"
    erasures = ErasureRepository(store)
    for person in (QUOTED, "P1", "Shanghai", "C1"):
        await erasures.erase(person, reason="DSR-edge", requested_by="dpo")
    return store, before, await snapshot(store), root


async def test_no_other_value_equal_to_an_erased_id_is_rewritten(edge_bank: tuple) -> None:
    _, before, after, _ = edge_bank
    assert after["product"] == before["product"], "the product P1 is not the customer P1"
    assert after["cities"] == before["cities"], "the city Shanghai is not the customer Shanghai"
    assert after["targets"] == before["targets"], "the targets are still for the product P1"
    assert after["others"] == [o for o in before["others"] if o["id"] != "C1"], (
        "C1 A and C1/2 are other people, not mentions of C1"
    )


async def test_no_escaped_form_of_an_erased_id_remains(edge_bank: tuple) -> None:
    store, _, _, _ = edge_bank
    forms = {QUOTED, json.dumps(QUOTED)[1:-1]}
    found = []
    for cypher in (
        "MATCH (n) UNWIND keys(n) AS k RETURN k, n[k] AS v",
        "MATCH ()-[r]->() UNWIND keys(r) AS k RETURN k, r[k] AS v",
    ):
        for row in await query(store, cypher):
            values = row["v"] if isinstance(row["v"], list) else [row["v"]]
            if any(isinstance(v, str) and any(f in v for f in forms) for v in values):
                found.append(row["k"])
    assert found == []


async def test_a_reloaded_bad_row_of_an_erased_person_is_not_copied(
    edge_bank: tuple, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    """A re-sent row naming the erased person that also fails validation is still theirs."""
    store, _, _, _ = edge_bank
    write(
        tmp_path / "again",
        "customers",
        [{"customer_id": QUOTED, "kind": "PERSON", "name": "客户again", "aum": "not-a-number"}],
    )
    report = await Loader(store, test_settings, rejects_dir=tmp_path / "rejects").load(
        tmp_path / "again"
    )
    rejects = read_csv(Path(report.rejects_file))
    assert [r["reason_code"] for r in rejects] == [RejectReason.ERASED_SUBJECT.value]
    assert all("客户again" not in r["raw_row"] for r in rejects)


async def test_a_load_that_began_before_the_erasure_does_not_bring_the_person_back(
    edge_bank: tuple, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    """A long ``crkg load`` reads the erasures, the DPO erases someone, and the load then
    reaches that person's row: it must be refused, not write them back."""
    store, _, _, _ = edge_bank
    row = {"customer_id": "RACE-1", "kind": "PERSON", "name": "客户RACE", "rm_id": "RM1"}
    loading = Loader(store, test_settings, rejects_dir=tmp_path)
    first = await loading.load_records("customers", [row], source="test")
    assert first.report.rows_loaded == 1
    await ErasureRepository(store).erase("RACE-1", reason="DSR-race", requested_by="dpo")
    again = await loading.load_records("customers", [row], source="test")
    assert [r.reason for r in again.rejects] == [RejectReason.ERASED_SUBJECT]
    back = await query(store, "MATCH (c:Customer {customer_id: 'RACE-1'}) RETURN c")
    assert back == []
