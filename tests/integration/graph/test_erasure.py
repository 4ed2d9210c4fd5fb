"""Issue 16 item 9 on the real server: ``crkg erase`` removes a person and every derived trace.

The bank is the campaign bank (:mod:`tests.support.campaign_bank`) with a guarantee circle, a
shared device and the person's own phone added, its risk, community and referral runs done
and a list version drawn: so H1 (a holder, introducer of other people's list rows, a circle and
ring member) and T02 (a listed target with consents) have traces in every place the graph keeps
them. After erasure, a scan of every property of every node and relationship finds neither id.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.errors import NotFoundError
from graph.lists import DrawParameters
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository
from graph.repositories.erasure import ErasureRepository, subject_pseudonym
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from loaders.rejects import RejectReason
from tests.support.banks import query, read_csv
from tests.support.campaign_bank import AS_OF, campaign_store, day, write
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db


def extras(folder: Path) -> Path:
    """A guarantee circle H1 → T01 → T03 → T04 → H1, a device H1 shares with T01 and T04,
    H1's own phone."""
    write(
        folder,
        "guarantees",
        [
            {"guarantor_id": a, "borrower_id": b, "amount": "100000", "start": day(-100)}
            for a, b in (("H1", "T01"), ("T01", "T03"), ("T03", "T04"), ("T04", "H1"))
        ],
    )
    write(
        folder,
        "identifiers",
        [
            {"customer_id": "H1", "kind": "DEVICE", "value": "dev-shared-1"},
            {"customer_id": "T01", "kind": "DEVICE", "value": "dev-shared-1"},
            {"customer_id": "T04", "kind": "DEVICE", "value": "dev-shared-1"},
            {"customer_id": "H1", "kind": "PHONE", "value": "13800009999"},
        ],
    )
    return folder


@pytest.fixture(scope="module")
async def erased_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[GraphStore, dict[str, object], Path]:
    root = tmp_path_factory.mktemp("erasure-bank")
    store = await campaign_store(driver, test_settings, root)
    report = await Loader(store, test_settings, rejects_dir=root / "rejects").load(
        extras(root / "extras")
    )
    assert report.rows_rejected == 0, report.to_json()
    # the list is drawn before the risk runs: linkage members are risk-flagged, and H1 is to
    # be the introducer of other people's rows
    lists = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    await lists.create(
        CampaignInput("K-ERASE", "春季信用卡", "P1", channel="SMS", purpose="MARKETING", owner="x"),
        created_by="maker",
    )
    version, _ = await lists.draw("K-ERASE", DrawParameters(as_of=AS_OF), drawn_by="maker")
    for name in ("guarantee_circles", "identifier_rings", "louvain"):
        await run_algorithm(store, test_settings, name, {}, engine=Engine.INPROC)
    before = await traces(store, "H1") + await traces(store, "T02")
    assert before, "the bank must hold traces of both people before the erasure"
    results = {}
    erasures = ErasureRepository(store)
    for person in ("H1", "T02"):
        results[person] = await erasures.erase(person, reason="DSR-2026-17", requested_by="dpo")
    return store, {"version": version, **results}, root


async def traces(store: GraphStore, customer_id: str) -> list[str]:
    """Every place a property (or a string in a list property) holds the id as a token."""
    token = re.compile(rf"(?<![\w.-]){re.escape(customer_id)}(?![\w.-])")
    found = []
    for rows in (
        await query(store, "MATCH (n) UNWIND keys(n) AS k RETURN labels(n) AS what, k, n[k] AS v"),
        await query(
            store, "MATCH ()-[r]->() UNWIND keys(r) AS k RETURN type(r) AS what, k, r[k] AS v"
        ),
    ):
        for row in rows:
            values = row["v"] if isinstance(row["v"], list) else [row["v"]]
            if any(isinstance(v, str) and token.search(v) for v in values):
                found.append(f"{row['what']}.{row['k']}")
    return found


async def test_nothing_of_the_erased_people_remains_anywhere(erased_bank: tuple) -> None:
    store, _, _ = erased_bank
    assert await traces(store, "H1") == []
    assert await traces(store, "T02") == []
    left = await query(store, "MATCH (c:Customer) WHERE c.customer_id IN ['H1', 'T02'] RETURN c")
    assert left == []
    # their consents (K2, K3) and H1's own phone went with them; the shared device stays (T01's)
    owned = await query(
        store, "MATCH (g:Consent) WHERE g.consent_id IN ['K2', 'K3'] RETURN g.consent_id AS id"
    )
    assert owned == []
    devices = await query(
        store,
        "MATCH (i:Identifier)<-[:USES]-(c) RETURN i.kind AS kind, collect(c.customer_id) AS who",
    )
    assert {d["kind"]: sorted(d["who"]) for d in devices} == {"DEVICE": ["T01", "T04"]}


async def test_counts_that_included_them_are_recounted(erased_bank: tuple) -> None:
    store, results, _ = erased_bank
    circles = await query(
        store,
        "MATCH (l:RiskLinkage) OPTIONAL MATCH (l)<-[:MEMBER_OF]-(c) "
        "RETURN l.linkage_id AS id, l.kind AS kind, l.size AS size, count(c) AS members, "
        "l.erased_members AS erased",
    )
    # the circle of four and the ring of three each lost H1, and say so
    assert sorted((c["kind"], c["size"], c["members"], c["erased"]) for c in circles) == [
        ("GUARANTEE_CIRCLE", 3, 3, 1),
        ("IDENTIFIER_RING", 2, 2, 1),
    ]
    communities = await query(
        store,
        "MATCH (k:Community {algorithm: 'louvain'}) "
        "OPTIONAL MATCH (c:Customer) WHERE toString(c.community_louvain) = k.local_id "
        "RETURN k.community_id AS id, k.size AS size, count(c) AS members",
    )
    assert communities
    assert all(k["size"] == k["members"] for k in communities), communities
    version = results["version"]
    stored = await query(
        store,
        "MATCH (v:ListVersion {list_version_id: $id}) "
        "RETURN v.row_count AS rows, v.erased_rows AS erased, COUNT { (v)-[:LISTS]->() } AS listed",
        id=version["list_version_id"],
    )
    assert stored[0]["erased"] == 1, "T02 was a listed row"
    assert stored[0]["listed"] == stored[0]["rows"] - stored[0]["erased"]


async def test_the_audit_keeps_that_an_erasure_happened_under_a_pseudonym(
    erased_bank: tuple,
) -> None:
    store, results, _ = erased_bank
    records = await query(
        store,
        "MATCH (e:Erasure) WHERE e.subject_sha256 IN $mine RETURN e {.*} AS e ORDER BY e.erased_at",
        mine=[subject_pseudonym("H1"), subject_pseudonym("T02")],
    )  # (the command-line test may have erased a third person, before or after this one)
    assert [r["e"]["subject_sha256"] for r in records] == [
        subject_pseudonym("H1"),
        subject_pseudonym("T02"),
    ]
    h1 = records[0]["e"]
    assert h1["reason"] == "DSR-2026-17"
    assert h1["requested_by"] == "dpo"
    assert h1["nodes_deleted"] >= 2, "H1 and its own phone"
    assert h1["mentions_rewritten"] > 0, "H1 introduced other people's list rows"
    assert results["H1"].erasure.erasure_id == h1["erasure_id"]  # type: ignore[attr-defined]
    erased = await query(
        store,
        "MATCH ()-[r:LISTS]->() WHERE r.reasons_json CONTAINS 'ERASED-' RETURN count(r) AS n",
    )
    assert erased[0]["n"] > 0, "the rows H1 introduced name the erasure, not the person"


async def test_erasing_again_or_an_unknown_id(erased_bank: tuple) -> None:
    store, _, _ = erased_bank
    erasures = ErasureRepository(store)
    again = await erasures.erase("H1", reason="again", requested_by="dpo")
    assert again.already_erased
    assert again.erasure.reason == "DSR-2026-17"
    with pytest.raises(NotFoundError):
        await erasures.erase("NOBODY", reason="x", requested_by="dpo")


async def test_a_later_load_cannot_bring_an_erased_person_back(
    erased_bank: tuple, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    store, _, root = erased_bank
    report = await Loader(store, test_settings, rejects_dir=tmp_path).load(root / "bank")
    customers = next(f for f in report.files if f.file == "customers")
    erased = {r["p"] for r in await query(store, "MATCH (e:Erasure) RETURN e.subject_sha256 AS p")}
    in_bank = [r for r in read_csv(root / "bank" / "customers.csv")
               if subject_pseudonym(r["customer_id"]) in erased]  # fmt: skip
    assert len(in_bank) >= 2  # H1 and T02 (and T12 when the command-line test ran first)
    assert customers.reasons.get(RejectReason.ERASED_SUBJECT.value) == len(in_bank)
    rejects = read_csv(Path(report.rejects_file))
    refused = [r for r in rejects if r["reason_code"] == RejectReason.ERASED_SUBJECT.value]
    assert refused
    assert all(r["raw_row"] in ("", "{}") for r in refused), "the person's row is not copied"
    assert await traces(store, "H1") == []
    assert await traces(store, "T02") == []


def test_crkg_erase_from_the_command_line(erased_bank: tuple, test_settings: CrkgSettings) -> None:
    # T12: in no linkage and on no list row, so the other tests' counts hold in any order
    done = run_crkg(test_settings, "erase", "T12", "--reason", "DSR-2026-18", "--yes")
    assert done.returncode == 0, done.stderr
    assert "erased" in done.stdout
    # the output names the erasure, not the person (its id holds a time: T121222 is no T12)
    assert not re.search(r"(?<![\w.-])T12(?![\w.-])", done.stdout), done.stdout
    listed = run_crkg(test_settings, "erase", "--list")
    assert listed.returncode == 0
    assert "DSR-2026-18" in listed.stdout
    unknown = run_crkg(test_settings, "erase", "NOBODY", "--reason", "x", "--yes")
    assert unknown.returncode == 4
    assert "NOBODY" in unknown.stderr
