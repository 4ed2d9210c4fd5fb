"""The campaign area over HTTP (issue 12, stage 1), on the real server: a marketer creates a
campaign and draws a list; rows carry their reasons and suppressions their codes; an RM reads
their own book only; risk sees the guardrail's reasons; contact details go to the `channel`
role only after a second person approved, and every such export is audited; no risk-flagged
customer is a target, an introducer or a listed influencer for a marketer.

The bank is :mod:`tests.support.campaign_bank` (one planted case per suppression code).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import create_app
from api.security.auth import Role
from graph import clock
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.integration.api_client import Api, api_for, codes
from tests.support.banks import query
from tests.support.campaign_bank import (
    AS_OF,
    EXPECTED_CODES,
    FLAGGED,
    RM,
    TARGETS,
    campaign_store,
)

pytestmark = pytest.mark.db

CREATE = """
mutation($input: CampaignInput!) { createCampaign(input: $input) { campaignId owner channel } }
"""
DRAW = """
mutation($id: ID!, $asOf: Date!) {
  drawListVersion(campaignId: $id, asOf: $asOf) {
    created
    version { listVersionId contentHash rowCount suppressedCount drawnBy approvedBy
              suppressedByReason { code customers } }
  }
}
"""
READ = """
query($id: ID!) {
  listVersion(id: $id) {
    rowCount
    rows(first: 100) { position customerId treatment rank score introducerId pathIds
                       parts { adamicAdar tieStrength } }
    suppressions(first: 100) { customerId codes }
  }
}
"""
RISK_FLAGS = "query($id: ID!) { listVersion(id: $id) { suppressions { customerId riskFlags } } }"
EXPORT = """
mutation($id: ID!, $format: ExportFormat!) {
  exportListVersion(id: $id, format: $format) { fileName contentBase64 sha256 rows manifest }
}
"""
CONTACTS = """
mutation($id: ID!) { exportListContacts(id: $id) { contentBase64 rows contactDetails } }
"""
APPROVE = "mutation($id: ID!) { approveListVersion(id: $id) { approvedBy } }"


@pytest.fixture(scope="module")
async def campaign_db(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> GraphStore:
    root = tmp_path_factory.mktemp("campaign-api")
    return await campaign_store(driver, test_settings, root, "pagerank")


@pytest.fixture(scope="module")
def client(campaign_db: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    # the server's today is the bank's reference day: a marketer draws on today only
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "today", lambda: AS_OF)
        with TestClient(create_app(test_settings)) as test_client:
            yield test_client


@pytest.fixture(scope="module")
def as_role(client: TestClient, test_settings: CrkgSettings) -> Any:
    def make(role: Role, subject: str) -> Api:
        return api_for(client, test_settings, role, subject)

    return make


@pytest.fixture(scope="module")
def drawn(as_role: Any) -> str:
    """The list version a marketer drew for campaign K-API (SMS marketing of P1)."""
    maker = as_role(Role.MARKETER, "maker")
    created = maker.data(CREATE, input={"campaignId": "K-API", "name": "春季信用卡",
                                        "productId": "P1", "channel": "SMS",
                                        "purpose": "MARKETING"})  # fmt: skip
    assert created["createCampaign"] == {"campaignId": "K-API", "owner": "maker", "channel": "SMS"}
    first = maker.data(DRAW, id="K-API", asOf=AS_OF.isoformat())["drawListVersion"]
    assert first["created"]
    again = as_role(Role.MARKETER, "other").data(DRAW, id="K-API", asOf=AS_OF.isoformat())
    assert not again["drawListVersion"]["created"], "same inputs: the same version"
    assert again["drawListVersion"]["version"] == first["version"]
    version = first["version"]
    counts = {c["code"]: c["customers"] for c in version["suppressedByReason"]}
    assert counts["NO_INTRODUCER"] == 2
    assert counts["RISK_FLAGGED"] == 1
    assert version["suppressedCount"] == len(EXPECTED_CODES)
    return str(version["listVersionId"])


def test_rows_carry_reasons_and_every_suppression_its_code(as_role: Any, drawn: str) -> None:
    marketer = as_role(Role.MARKETER, "maker").data(READ, id=drawn)["listVersion"]
    listed = {r["customerId"] for r in marketer["rows"]}
    assert listed == set(TARGETS) - set(EXPECTED_CODES)
    assert {s["customerId"]: s["codes"] for s in marketer["suppressions"]} == EXPECTED_CODES
    # the guardrail's reasons are risk's: a marketer sees the code, not the flags behind it
    assert codes(as_role(Role.MARKETER, "maker").errors(RISK_FLAGS, id=drawn)) == {"FORBIDDEN"}
    for row in marketer["rows"]:
        assert row["treatment"] == "T"
        assert row["score"] > 0
        assert row["pathIds"] == [row["customerId"], row["introducerId"]]
        assert row["parts"]["tieStrength"] == pytest.approx(0.8)
    risk = as_role(Role.RISK, "analyst").data(RISK_FLAGS, id=drawn)["listVersion"]
    flags = {s["customerId"]: s["riskFlags"] for s in risk["suppressions"]}
    assert flags["T06"] == ["RISK_RATING"]
    assert flags["T01"] == []
    # an RM reads the rows and suppressions of their own book only
    rm2 = as_role(Role.RM, "RM2").data(READ, id=drawn)["listVersion"]
    assert {r["customerId"] for r in rm2["rows"]} == {c for c in listed if RM[c] == "RM2"}
    assert {s["customerId"] for s in rm2["suppressions"]} == {
        c for c in EXPECTED_CODES if RM[c] == "RM2"
    }
    assert rm2["rows"], "RM2's book has listed customers"
    # the channel reads no list, and may not draw one
    channel = as_role(Role.CHANNEL, "callcentre")
    assert codes(channel.errors(READ, id=drawn)) == {"FORBIDDEN"}
    assert codes(channel.errors(DRAW, id="K-API", asOf=AS_OF.isoformat())) == {"FORBIDDEN"}


def test_a_masked_export_holds_no_suppressed_customer_and_no_contact_detail(
    as_role: Any, drawn: str
) -> None:
    marketer = as_role(Role.MARKETER, "maker")
    done = marketer.data(EXPORT, id=drawn, format="CSV")["exportListVersion"]
    content = base64.b64decode(done["contentBase64"])
    records = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert {r["customer_id"] for r in records} == set(TARGETS) - set(EXPECTED_CODES)
    assert not {"name", "phone", "email"} & set(records[0])
    assert done["manifest"]["suppressed_at_draw"]["CONTACT_CAP"] == 1
    assert done["manifest"]["fields"] == list(records[0])
    again = marketer.data(EXPORT, id=drawn, format="CSV")["exportListVersion"]
    assert again["sha256"] == done["sha256"], "re-delivery gives the same file"
    parquet = marketer.data(EXPORT, id=drawn, format="PARQUET")["exportListVersion"]
    assert parquet["rows"] == len(records)
    assert parquet["fileName"].endswith(".parquet")
    # contact details are not the marketer's to export
    assert codes(marketer.errors(CONTACTS, id=drawn)) == {"FORBIDDEN"}


async def test_contact_details_need_a_second_person_and_every_export_is_audited(
    as_role: Any, drawn: str, campaign_db: GraphStore
) -> None:
    channel = as_role(Role.CHANNEL, "callcentre")
    refused = channel.errors(CONTACTS, id=drawn)
    assert "not approved" in refused[0]["message"]
    assert codes(as_role(Role.MARKETER, "maker").errors(APPROVE, id=drawn)) == {"BAD_REQUEST"}
    assert codes(as_role(Role.RM, "RM1").errors(APPROVE, id=drawn)) == {"FORBIDDEN"}
    audited = "MATCH (a:AuditEvent {subject: 'callcentre'}) RETURN a.customer_id AS id"
    assert await query(campaign_db, audited) == [], "a refused export reads no contact"
    approved = as_role(Role.MARKETER, "checker").data(APPROVE, id=drawn)["approveListVersion"]
    assert approved == {"approvedBy": "checker"}
    done = channel.data(CONTACTS, id=drawn)["exportListContacts"]
    records = list(csv.DictReader(io.StringIO(base64.b64decode(done["contentBase64"]).decode())))
    listed = set(TARGETS) - set(EXPECTED_CODES)
    assert {r["customer_id"] for r in records} == listed
    assert all(r["phone"].startswith("1380000") and r["name"] for r in records)
    events = await query(campaign_db, audited)
    assert sorted(e["id"] for e in events) == sorted(listed), "one audit event per customer"


INFLUENCERS = "{ influencers(first: 100) { customer { id } } }"
RISK_INFLUENCERS = "{ influencers(first: 100) { customer { id } riskFlags } }"
TARGETS_QUERY = """
{ referralTargets(productId: "P1", first: 100) { customer { id } introducers { customerId pathIds } } }
"""


def test_no_risk_flagged_customer_is_a_target_introducer_or_influencer_for_a_marketer(
    as_role: Any, drawn: str
) -> None:
    marketer = as_role(Role.MARKETER, "maker")
    targets = marketer.data(TARGETS_QUERY)["referralTargets"]
    seen = {t["customer"]["id"] for t in targets}
    assert seen, "the marketer sees targets"
    introducers = {i["customerId"] for t in targets for i in t["introducers"]}
    on_paths = {p for t in targets for i in t["introducers"] for p in i["pathIds"]}
    assert introducers, "and introducers"
    influencers = {i["customer"]["id"] for i in marketer.data(INFLUENCERS)["influencers"]}
    assert influencers, "and influencers"
    listed = marketer.data(READ, id=drawn)["listVersion"]["rows"]
    on_list = {r["customerId"] for r in listed} | {p for r in listed for p in r["pathIds"]}
    for name, people in [("targets", seen), ("introducers", introducers | on_paths),
                         ("influencers", influencers), ("list", on_list)]:  # fmt: skip
        assert not people & FLAGGED, name
    # the reasons are for the roles that read risk: admin sees why H3 was left out
    dropped = '{ referralTargets(productId: "P1", first: 100) { customer { id } leftOutIntroducers { customerId riskFlags } } }'
    assert codes(marketer.errors(dropped)) == {"FORBIDDEN"}
    admin = as_role(Role.ADMIN, "boss").data(dropped)["referralTargets"]
    left_out = {t["customer"]["id"]: t["leftOutIntroducers"] for t in admin}
    for target in ("T11", "T12"):
        assert left_out[target] == [{"customerId": "H3", "riskFlags": ["RISK_RATING"]}]
    assert left_out["T01"] == []
    # risk sees the flagged influencers, with the reason
    risk = as_role(Role.RISK, "analyst").data(RISK_INFLUENCERS)["influencers"]
    flagged = {i["customer"]["id"]: i["riskFlags"] for i in risk if i["riskFlags"]}
    assert flagged == {c: ["RISK_RATING"] for c in FLAGGED}


DRAW_HOLDOUT = """
mutation($id: ID!, $asOf: Date!, $share: Float!) {
  drawListVersion(campaignId: $id, asOf: $asOf, seed: 3, holdoutShare: $share) {
    created
    version { listVersionId contentHash rowCount holdoutShare treatedCount controlCount
              srmPValue srmWarning
              rows(first: 100) { customerId treatment cluster crossArm crossArmShare } }
  }
}
"""


def test_a_list_drawn_with_a_hold_out_carries_its_arms_and_srm_check(as_role: Any) -> None:
    maker = as_role(Role.MARKETER, "maker")
    maker.data(CREATE, input={"campaignId": "K-API-H", "name": "对照组", "productId": "P1",
                              "channel": "SMS", "purpose": "MARKETING"})  # fmt: skip
    drawn = maker.data(DRAW_HOLDOUT, id="K-API-H", asOf=AS_OF.isoformat(), share=0.5)
    version = drawn["drawListVersion"]["version"]
    rows = version["rows"]
    assert {r["customerId"] for r in rows} == set(TARGETS) - set(EXPECTED_CODES)
    control = [r for r in rows if r["treatment"] == "C"]
    # no community run in this bank: every row is a cluster of its own, half of them control
    assert {r["cluster"] for r in rows} == {f"~{r['customerId']}" for r in rows}
    assert len(control) == round(0.5 * len(rows))
    assert (version["treatedCount"], version["controlCount"]) == (
        len(rows) - len(control),
        len(control),
    )
    assert version["holdoutShare"] == 0.5
    assert version["srmWarning"] is False
    assert 0.0 <= version["srmPValue"] <= 1.0
    assert {r["crossArm"] for r in rows} == {False}, "the targets have no ties among them"
    again = maker.data(DRAW_HOLDOUT, id="K-API-H", asOf=AS_OF.isoformat(), share=0.5)
    assert not again["drawListVersion"]["created"]
    assert again["drawListVersion"]["version"]["contentHash"] == version["contentHash"]
    refused = maker.errors(DRAW_HOLDOUT, id="K-API-H", asOf=AS_OF.isoformat(), share=0.8)
    assert "holdout_share" in refused[0]["message"]


def test_only_a_role_reading_unmasked_pii_draws_on_another_day(as_role: Any) -> None:
    """asOf other than today would let a marketer bisect birth, complaint and opt-out dates
    from NOT_ELIGIBLE / COMPLAINT / OPTED_OUT against a row."""
    maker = as_role(Role.MARKETER, "maker")
    maker.data(CREATE, input={"campaignId": "K-API-D", "name": "日期", "productId": "P1",
                              "channel": "SMS", "purpose": "MARKETING"})  # fmt: skip
    for day in (AS_OF - timedelta(days=1), AS_OF + timedelta(days=1)):
        refused = maker.errors(DRAW, id="K-API-D", asOf=day.isoformat())
        assert codes(refused) == {"BAD_REQUEST"}
        assert "asOf" in refused[0]["message"]
    assert maker.data(DRAW, id="K-API-D", asOf=AS_OF.isoformat())["drawListVersion"]["created"]
    admin = as_role(Role.ADMIN, "root")
    earlier = admin.data(DRAW, id="K-API-D", asOf=(AS_OF - timedelta(days=1)).isoformat())
    assert earlier["drawListVersion"]["created"]


async def test_a_contact_export_is_audited_like_every_unmasked_read(
    as_role: Any, client: TestClient, campaign_db: GraphStore
) -> None:
    """The audit record names what ran (the document's SHA-256) and the caller's declared
    purpose (X-Crkg-Purpose), not the campaign's."""
    # a version of its own: approving the shared one would decide another test's
    # "not approved yet" whenever the shuffled order runs this test first
    maker = as_role(Role.MARKETER, "maker")
    maker.data(CREATE, input={"campaignId": "K-API-A", "name": "审计", "productId": "P1",
                              "channel": "SMS", "purpose": "MARKETING"})  # fmt: skip
    drawn = maker.data(DRAW, id="K-API-A", asOf=AS_OF.isoformat())["drawListVersion"]
    drawn = str(drawn["version"]["listVersionId"])
    as_role(Role.MARKETER, "checker").data(APPROVE, id=drawn)
    sender = as_role(Role.CHANNEL, "sender")
    response = client.post(
        "/graphql",
        json={"query": CONTACTS, "variables": {"id": drawn}},
        headers={"Authorization": f"Bearer {sender.token}", "X-Crkg-Purpose": "spring send"},
    )
    assert response.json()["data"]["exportListContacts"]["rows"] > 0
    events = await query(
        campaign_db,
        "MATCH (a:AuditEvent {subject: 'sender'}) "
        "RETURN DISTINCT a.document_sha256 AS sha, a.purpose AS purpose",
    )
    assert events == [
        {"sha": hashlib.sha256(CONTACTS.encode("utf-8")).hexdigest(), "purpose": "spring send"}
    ]
