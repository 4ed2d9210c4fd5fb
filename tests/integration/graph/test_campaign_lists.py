"""Issue 12, stage 1 on the real server: list versions drawn from stored referral targets,
suppression with reason codes at draw and again at export, the frequency cap over a sliding
window of planted contacts, same inputs -> same hash, maker-checker on contact exports.

The bank is :mod:`tests.support.campaign_bank` (one planted case per suppression code).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from neo4j import AsyncDriver

from graph.lists import DrawParameters, ListRuleError
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from tests.support.banks import query
from tests.support.campaign_bank import (
    AS_OF,
    EXPECTED_CODES,
    INTRODUCER,
    TARGETS,
    campaign_store,
    day,
    write,
)
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
async def lists(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> CampaignRepository:
    store = await campaign_store(driver, test_settings, tmp_path_factory.mktemp("campaign-bank"))
    repository = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    return repository


async def own_campaign(lists: CampaignRepository, campaign_id: str) -> str:
    """Each test draws on a campaign of its own: a version another test drew (or approved)
    first would otherwise decide this one's "created" and "approved" (the order is shuffled)."""
    await lists.create(
        CampaignInput(
            campaign_id, "春季信用卡", "P1", channel="SMS", purpose="MARKETING", owner="cards"
        ),
        created_by="maker",
    )
    return campaign_id


async def test_every_suppression_has_its_reason_code_and_no_suppressed_customer_is_listed(
    lists: CampaignRepository,
) -> None:
    campaign = await own_campaign(lists, "K-REASONS")
    version, created = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
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
    campaign = await own_campaign(lists, "K-HASH")
    first, _ = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
    again, created = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="someone")
    assert not created
    assert again == first, "same inputs: the same version, byte for byte"
    other, created = await lists.draw(
        campaign, DrawParameters(as_of=AS_OF, seed=7), drawn_by="maker"
    )
    assert created
    assert other["content_hash"] != first["content_hash"], "the seed is an input"
    # a changed input in the graph: a complaint for a listed customer
    store = lists.runner
    assert isinstance(store, GraphStore)
    write(tmp_path / "more", "complaints", [{"complaint_id": "X2", "customer_id": "T09",
                                              "day": day(-1)}])  # fmt: skip
    await Loader(store, test_settings, rejects_dir=tmp_path).load(tmp_path / "more")
    changed, created = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
    assert created
    assert changed["content_hash"] != first["content_hash"]
    suppressed = await lists.suppressions(changed["list_version_id"], limit=100)
    assert {s["customer_id"] for s in suppressed} == set(EXPECTED_CODES) | {"T09"}
    # the earlier version is unchanged (immutable)
    assert await lists.version(first["list_version_id"]) == first
    assert len(await lists.rows(first["list_version_id"], limit=100)) == first["row_count"]
    await query(store, "MATCH (x:Complaint {complaint_id: 'X2'}) DETACH DELETE x")


async def test_the_frequency_cap_holds_over_a_sliding_window(lists: CampaignRepository) -> None:
    campaign = await own_campaign(lists, "K-CAP")

    async def capped(as_of: date, **cap: int) -> set[str]:
        version, _ = await lists.draw(campaign, DrawParameters(as_of=as_of, **cap), drawn_by="m")
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
    campaign = await own_campaign(lists, "K-EXPORT")
    version, _ = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
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
    write(tmp_path / "late", "opt_outs", [{"opt_out_id": "O9", "customer_id": "T02",
                                            "day": day(-1)}])  # fmt: skip
    await Loader(store, test_settings, rejects_dir=tmp_path).load(tmp_path / "late")
    late = await export()
    late_ids = {r["customer_id"] for r in csv.DictReader(io.StringIO(late.content.decode()))}  # type: ignore[attr-defined]
    assert late_ids == listed - {"T02"}
    assert late.manifest["suppressed_at_export"]["OPTED_OUT"] == 1  # type: ignore[attr-defined]
    await query(store, "MATCH (x:OptOut {opt_out_id: 'O9'}) DETACH DELETE x")


async def test_no_listed_customer_or_introducer_is_risk_flagged(
    lists: CampaignRepository,
) -> None:
    campaign = await own_campaign(lists, "K-FLAGS")
    version, _ = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
    rows = await lists.rows(version["list_version_id"], limit=100)
    people = {r["customer_id"] for r in rows} | {r["reasons"]["introducer_id"] for r in rows}
    people |= {p for r in rows for p in r["reasons"]["path"]}
    flags = await ReferralTargetRepository(lists.runner, risk_rule=lists.risk_rule).risk_flags(
        sorted(people | {"T06", "H3"})
    )
    assert set(flags) == {"T06", "H3"}, "the check sees the flagged ones"
    assert not people & set(flags)


def test_the_campaign_commands_draw_approve_and_export(
    lists: CampaignRepository, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    def crkg(*args: str) -> subprocess.CompletedProcess[str]:
        return run_crkg(test_settings, "campaign", *args)

    made = crkg("create", "K-CLI", "--name", "短信", "--product", "P1", "--channel", "sms",
                "--by", "maker")  # fmt: skip
    assert made.returncode == 0, made.stderr
    drawn = crkg("draw", "K-CLI", "--as-of", AS_OF.isoformat(), "--by", "maker")
    assert drawn.returncode == 0, drawn.stderr
    assert "K-CLI:v1" in drawn.stdout
    assert "CONTACT_CAP" in drawn.stdout
    why = crkg("show", "K-CLI:v1", "--customer", "T08")
    assert "T08 is suppressed: CONTACT_CAP" in why.stdout, why.stdout + why.stderr
    early = crkg("export", "K-CLI:v1", "--contacts", "--out", str(tmp_path), "--by", "cc")
    assert early.returncode != 0
    assert "not approved" in early.stderr
    same = crkg("approve", "K-CLI:v1", "--by", "maker")
    assert same.returncode != 0
    assert "second person" in same.stderr
    assert crkg("approve", "K-CLI:v1", "--by", "checker").returncode == 0
    done = crkg("export", "K-CLI:v1", "--contacts", "--out", str(tmp_path), "--by", "cc")
    assert done.returncode == 0, done.stderr
    target = tmp_path / "K-CLI-v1-contacts.csv"
    assert target.stat().st_mode & 0o777 == 0o600, "contact details: owner-only"
    records = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    listed = set(TARGETS) - set(EXPECTED_CODES)
    assert {r["customer_id"] for r in records} == listed
    manifest = json.loads((tmp_path / "K-CLI-v1-contacts.csv.manifest.json").read_text())
    assert manifest["contact_details"] is True
    assert manifest["rows"] == len(listed)


async def test_every_introducer_and_path_member_passes_the_whole_screen(
    lists: CampaignRepository, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    """An introducer is contacted too: opted out (or complaining, capped, withdrawn) they
    are no introducer, at draw and again at export, like a risk flag."""
    campaign = await own_campaign(lists, "K-SCREEN")
    version, _ = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="maker")
    vid = version["list_version_id"]
    rows = await lists.rows(vid, limit=100)
    by_h1 = {r["customer_id"] for r in rows if "H1" in r["reasons"]["path"]}
    assert by_h1, "H1 introduces some listed customers"
    store = lists.runner
    assert isinstance(store, GraphStore)
    write(tmp_path / "late", "opt_outs", [{"opt_out_id": "O8", "customer_id": "H1",
                                            "channel": "SMS", "day": day(-1)}])  # fmt: skip
    await Loader(store, test_settings, rejects_dir=tmp_path).load(tmp_path / "late")
    try:
        late = await lists.export(vid, "csv", contact_details=False, subject="m",
                                  role="marketer", as_of=AS_OF)  # fmt: skip
        ids = {r["customer_id"] for r in csv.DictReader(io.StringIO(late.content.decode()))}
        assert ids == {r["customer_id"] for r in rows} - by_h1
        assert late.manifest["suppressed_at_export"]["NO_INTRODUCER"] == len(by_h1)
        redrawn, created = await lists.draw(campaign, DrawParameters(as_of=AS_OF), drawn_by="m")
        assert created
        why = await lists.suppressions(redrawn["list_version_id"], limit=100)
        codes_of = {s["customer_id"]: s["codes"] for s in why}
        assert {c: codes_of.get(c) for c in by_h1} == {c: ["NO_INTRODUCER"] for c in by_h1}
    finally:
        await query(store, "MATCH (x:OptOut {opt_out_id: 'O8'}) DETACH DELETE x")


async def test_concurrent_draws_of_one_campaign_both_get_a_version(
    lists: CampaignRepository,
) -> None:
    """Two draws computing the same next version number at once: no internal error."""
    await lists.create(
        CampaignInput("K-RACE", "并发", "P1", channel="SMS", purpose="MARKETING", owner="o"),
        created_by="maker",
    )
    drawn = await asyncio.gather(
        *(lists.draw("K-RACE", DrawParameters(as_of=AS_OF, seed=s), drawn_by="m") for s in (1, 2))
    )
    assert sorted(v["version"] for v, _ in drawn) == [1, 2]
