"""Issue 12, stage 1 on the real server: list versions drawn from stored referral targets,
suppression with reason codes at draw and again at export, the frequency cap over a sliding
window of planted contacts, same inputs -> same hash, maker-checker on contact exports.

A hand-built bank: holders H1..H3 of product P1 with friends T01..T12 (the targets); after the
referral run a second export plants consents, opt-outs, complaints and contacts and changes a
few customers (a rating, a holding), so each suppression code has a customer it must hit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.lists import DrawParameters, ListRuleError
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from tests.conftest import load_into_empty_db
from tests.support.banks import query

pytestmark = pytest.mark.db
AS_OF = date(2026, 6, 30)
TARGETS = [f"T{i:02d}" for i in range(1, 13)]
INTRODUCER = {t: ("H3" if t in ("T11", "T12") else f"H{1 + i % 2}") for i, t in enumerate(TARGETS)}


def _write(folder: Path, name: str, rows: Sequence[Mapping[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _day(days: int) -> str:
    return (AS_OF + timedelta(days=days)).isoformat()


def _bank(folder: Path) -> Path:
    customer = {"kind": "PERSON", "consent_marketing": "true", "risk_rating": "1"}
    people = [{"customer_id": c, "name": f"客户{c}", "phone": f"1380000{i:04d}", **customer}
              for i, c in enumerate(["H1", "H2", "H3", *TARGETS])]  # fmt: skip
    _write(folder, "customers", people)
    _write(folder, "products", [{"product_id": "P1", "name": "卡", "category": "CREDIT_CARD"}])
    _write(folder, "holdings", [{"customer_id": h, "product_id": "P1"} for h in ("H1", "H2", "H3")])
    _write(
        folder,
        "social",
        [
            {"src_id": INTRODUCER[t], "dst_id": t, "kind": "FRIEND", "strength": "0.8"}
            for t in TARGETS
        ],
    )
    return folder


def _plants(folder: Path) -> Path:
    """What the bank learns after the referral run: one planted case per suppression code."""
    _write(
        folder,
        "consents",
        [
            {"consent_id": "K1", "customer_id": "T01", "purpose": "MARKETING", "channel": "SMS",
             "status": "WITHDRAWN", "day": _day(-10)},
            {"consent_id": "K2", "customer_id": "T02", "purpose": "MARKETING", "channel": "SMS",
             "status": "WITHDRAWN", "day": _day(-20)},
            {"consent_id": "K3", "customer_id": "T02", "purpose": "MARKETING", "channel": "SMS",
             "status": "GRANTED", "day": _day(-5)},
            # withdrawn for another channel only: T04 stays
            {"consent_id": "K4", "customer_id": "T04", "purpose": "MARKETING", "channel": "EMAIL",
             "status": "WITHDRAWN", "day": _day(-5)},
        ],
    )  # fmt: skip
    _write(
        folder,
        "opt_outs",
        [
            {"opt_out_id": "O1", "customer_id": "T03", "channel": "SMS", "day": _day(-3)},
            {"opt_out_id": "O2", "customer_id": "T04", "channel": "EMAIL", "day": _day(-3)},
        ],
    )
    _write(folder, "complaints", [{"complaint_id": "X1", "customer_id": "T05", "day": _day(-10)}])
    _write(
        folder,
        "contacts",
        [
            # T08: two contacts inside (AS_OF - 30, AS_OF]: capped at max_contacts 2
            {"contact_id": "M1", "customer_id": "T08", "channel": "SMS", "day": _day(-5)},
            {"contact_id": "M2", "customer_id": "T08", "channel": "PHONE", "day": _day(-29)},
            # T09: one inside, one exactly 30 days back (outside the window)
            {"contact_id": "M3", "customer_id": "T09", "channel": "SMS", "day": _day(-5)},
            {"contact_id": "M4", "customer_id": "T09", "channel": "SMS", "day": _day(-30)},
            # T10: one inside, one after AS_OF (not yet history on AS_OF)
            {"contact_id": "M5", "customer_id": "T10", "channel": "SMS", "day": _day(-1)},
            {"contact_id": "M6", "customer_id": "T10", "channel": "SMS", "day": _day(1)},
        ],
    )
    flagged = {"kind": "PERSON", "consent_marketing": "true", "risk_rating": "5"}
    _write(
        folder,
        "customers",
        [
            {"customer_id": "T06", "name": "客户T06", **flagged},  # risk-flagged since the run
            {"customer_id": "H3", "name": "客户H3", **flagged},  # the introducer of T11, T12
        ],
    )
    _write(folder, "holdings", [{"customer_id": "T07", "product_id": "P1"}])
    return folder


@pytest.fixture(scope="module")
async def lists(
    driver: object, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> CampaignRepository:
    root = tmp_path_factory.mktemp("campaign-bank")
    store: GraphStore = await load_into_empty_db(
        driver,  # type: ignore[arg-type]
        test_settings,
        _bank(root / "bank"),
        root / "rejects",
    )
    await run_algorithm(store, test_settings, "referral_targets", {"product_id": "P1"},
                        engine=Engine.INPROC)  # fmt: skip
    stored = await query(store, "MATCH (c)-[:REFERRAL_TARGET]->() RETURN c.customer_id AS id")
    assert {r["id"] for r in stored} == set(TARGETS), "every friend of a holder is a target"
    report = await Loader(store, test_settings, rejects_dir=root / "rejects").load(
        _plants(root / "plants")
    )
    assert report.rows_rejected == 0, report.to_json()
    repository = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    await repository.create(
        CampaignInput(
            "K-SMS", "春季信用卡", "P1", channel="SMS", purpose="MARKETING", owner="cards"
        ),
        created_by="maker",
    )
    return repository


EXPECTED_CODES = {
    "T01": ["NO_CONSENT"],
    "T03": ["OPTED_OUT"],
    "T05": ["COMPLAINT"],
    "T06": ["RISK_FLAGGED"],
    "T07": ["HOLDS_PRODUCT"],
    "T08": ["CONTACT_CAP"],
    "T11": ["NO_INTRODUCER"],
    "T12": ["NO_INTRODUCER"],
}


async def test_every_suppression_has_its_reason_code_and_no_suppressed_customer_is_listed(
    lists: CampaignRepository,
) -> None:
    version, created = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="maker")
    assert created
    assert version["version"] == 1
    rows = await lists.rows(version["list_version_id"], limit=100)
    suppressed = await lists.suppressions(version["list_version_id"], limit=100)
    assert {s["customer_id"]: s["codes"] for s in suppressed} == EXPECTED_CODES
    assert {r["customer_id"] for r in rows} == set(TARGETS) - set(EXPECTED_CODES)
    assert version["row_count"] == len(rows)
    assert version["suppressed_count"] == len(suppressed)
    risk = next(s for s in suppressed if s["customer_id"] == "T06")
    assert risk["risk_flags"] == ["RISK_RATING"], "the guardrail's reason is kept for risk"
    # "why is T08 not on the list" has an answer, asked for one customer
    why = await lists.suppressions(version["list_version_id"], limit=5, customer_id="T08")
    assert why == [{"customer_id": "T08", "position": why[0]["position"], "codes": ["CONTACT_CAP"],
                    "risk_flags": []}]  # fmt: skip
    for row in rows:
        reasons = row["reasons"]
        assert row["treatment"] == "T"
        assert reasons["introducer_id"] == INTRODUCER[row["customer_id"]]
        assert reasons["path"] == [row["customer_id"], INTRODUCER[row["customer_id"]]]
        assert reasons["score"] > 0
        assert set(reasons["parts"]) >= {"adamic_adar", "tie_strength"}
    assert [r["position"] for r in rows] == list(range(1, len(rows) + 1))
    assert version["algorithm_run_ids"]
    assert version["load_run_ids"]
    assert len(version["load_run_ids"]) == 2, "the bank's load and the plants' load were read"


async def test_the_same_inputs_give_the_same_version_and_a_changed_input_a_new_one(
    lists: CampaignRepository, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    first, _ = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="maker")
    again, created = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="someone")
    assert not created
    assert again == first, "same inputs: the same version, byte for byte"
    other, created = await lists.draw(
        "K-SMS", DrawParameters(as_of=AS_OF, seed=7), drawn_by="maker"
    )
    assert created
    assert other["content_hash"] != first["content_hash"], "the seed is an input"
    # a changed input in the graph: a complaint for a listed customer
    store = lists.runner
    assert isinstance(store, GraphStore)
    _write(tmp_path / "more", "complaints", [{"complaint_id": "X2", "customer_id": "T09",
                                              "day": _day(-1)}])  # fmt: skip
    await Loader(store, test_settings, rejects_dir=tmp_path).load(tmp_path / "more")
    changed, created = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="maker")
    assert created
    assert changed["content_hash"] != first["content_hash"]
    suppressed = await lists.suppressions(changed["list_version_id"], limit=100)
    assert {s["customer_id"] for s in suppressed} == set(EXPECTED_CODES) | {"T09"}
    # the earlier version is unchanged (immutable)
    assert await lists.version(first["list_version_id"]) == first
    assert len(await lists.rows(first["list_version_id"], limit=100)) == first["row_count"]
    await query(store, "MATCH (x:Complaint {complaint_id: 'X2'}) DETACH DELETE x")


async def test_the_frequency_cap_holds_over_a_sliding_window(lists: CampaignRepository) -> None:
    async def capped(as_of: date, **cap: int) -> set[str]:
        version, _ = await lists.draw("K-SMS", DrawParameters(as_of=as_of, **cap), drawn_by="m")
        gone = await lists.suppressions(version["list_version_id"], limit=100)
        return {s["customer_id"] for s in gone if "CONTACT_CAP" in s["codes"]}

    assert await capped(AS_OF) == {"T08"}
    # a day later the window (AS_OF - 29, AS_OF + 1] has lost T08's contact at AS_OF - 29
    # and gained T10's at AS_OF + 1
    assert await capped(AS_OF + timedelta(days=1)) == {"T10"}
    assert await capped(AS_OF + timedelta(days=25)) == {"T10"}  # (AS_OF - 5, AS_OF + 25]
    assert await capped(AS_OF + timedelta(days=40)) == set()
    assert await capped(AS_OF, max_contacts=1) == {"T08", "T09", "T10"}
    assert await capped(AS_OF, cap_window_days=31) == {"T08", "T09"}


async def test_exports_screen_again_and_contact_details_need_a_second_person(
    lists: CampaignRepository, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    version, _ = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="maker")
    vid = version["list_version_id"]
    listed = {r["customer_id"] for r in await lists.rows(vid, limit=100)}

    async def export(fmt: str = "csv", contact: bool = False, subject: str = "m") -> object:
        return await lists.export(vid, fmt, contact_details=contact, subject=subject,  # type: ignore[arg-type]
                                  role="marketer", as_of=AS_OF)  # fmt: skip

    csv_export = await export()
    parquet_export = await export("parquet")
    assert (await export()).content == csv_export.content, "re-delivery: the same bytes"  # type: ignore[attr-defined]
    assert (await export("parquet")).content == parquet_export.content  # type: ignore[attr-defined]
    records = list(csv.DictReader(io.StringIO(csv_export.content.decode())))  # type: ignore[attr-defined]
    assert {r["customer_id"] for r in records} == listed
    assert not set(EXPECTED_CODES) & {r["customer_id"] for r in records}
    assert {r["treatment"] for r in records} == {"T"}
    assert "phone" not in records[0]
    table = pq.read_table(io.BytesIO(parquet_export.content))  # type: ignore[attr-defined]
    assert sorted(table.column("customer_id").to_pylist()) == sorted(listed)
    manifest = csv_export.manifest  # type: ignore[attr-defined]
    assert manifest["content_hash"] == version["content_hash"]
    assert manifest["suppressed_at_draw"]["NO_INTRODUCER"] == 2
    assert manifest["rows"] == len(listed)

    with pytest.raises(ListRuleError, match="not approved"):
        await export(contact=True, subject="channel-1")
    with pytest.raises(ListRuleError, match="second person"):
        await lists.approve(vid, subject="maker")
    approved = await lists.approve(vid, subject="checker")
    assert approved["approved_by"] == "checker"
    store = lists.runner
    assert isinstance(store, GraphStore)
    contacts = await export(contact=True, subject="channel-1")
    after = await query(store, "MATCH (a:AuditEvent {subject: 'channel-1'}) "
                               "RETURN collect(a.customer_id) AS ids")  # fmt: skip
    assert sorted(after[0]["ids"]) == sorted(listed)
    with_phones = list(csv.DictReader(io.StringIO(contacts.content.decode())))  # type: ignore[attr-defined]
    assert all(r["phone"].startswith("1380000") for r in with_phones)

    # suppressed after the draw: an opt-out for a listed customer leaves them out at export
    _write(tmp_path / "late", "opt_outs", [{"opt_out_id": "O9", "customer_id": "T02",
                                            "day": _day(-1)}])  # fmt: skip
    await Loader(store, test_settings, rejects_dir=tmp_path).load(tmp_path / "late")
    late = await export()
    late_ids = {r["customer_id"] for r in csv.DictReader(io.StringIO(late.content.decode()))}  # type: ignore[attr-defined]
    assert late_ids == listed - {"T02"}
    assert late.manifest["suppressed_at_export"]["OPTED_OUT"] == 1  # type: ignore[attr-defined]
    await query(store, "MATCH (x:OptOut {opt_out_id: 'O9'}) DETACH DELETE x")


async def test_no_listed_customer_or_introducer_is_risk_flagged(
    lists: CampaignRepository,
) -> None:
    version, _ = await lists.draw("K-SMS", DrawParameters(as_of=AS_OF), drawn_by="maker")
    rows = await lists.rows(version["list_version_id"], limit=100)
    people = {r["customer_id"] for r in rows} | {r["reasons"]["introducer_id"] for r in rows}
    people |= {p for r in rows for p in r["reasons"]["path"]}
    flags = await ReferralTargetRepository(lists.runner, risk_rule=lists.risk_rule).risk_flags(
        sorted(people | {"T06", "H3"})
    )
    assert set(flags) == {"T06", "H3"}, "the check sees the flagged ones"
    assert not people & set(flags)
