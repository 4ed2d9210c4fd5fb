"""Issue 16 item 2, the campaign writes: kill -9 of the API while it draws list versions and
exports contact details.

A real `crkg serve` takes a stream of concurrent requests on the campaign bank — marketers
creating campaigns and drawing their list versions, the channel exporting an approved
version with contact details (each export with its own ``X-Crkg-Purpose``) — and is killed
with SIGKILL in their middle. Afterwards every draw that was answered is stored with the rows
and suppressions it reported, no list version anywhere is half-written (its counts equal the
rows and suppressions stored under it), and every contact export that was answered has one
audit record per customer it handed out.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from neo4j import AsyncDriver

from api.security.auth import Role
from api.security.tokens import mint_token
from graph.lists import DrawParameters
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import query
from tests.support.campaign_bank import AS_OF, campaign_store
from tests.support.crash import free_port, kill_amid, serve, until_gone

pytestmark = pytest.mark.db

WORKERS = 4
ANSWERED_BEFORE_THE_KILL = 24
CREATE = """mutation($input: CampaignInput!) { createCampaign(input: $input) { campaignId } }"""
DRAW = """mutation($id: ID!, $top: Int!) {
  drawListVersion(campaignId: $id, topN: $top) {
    created version { listVersionId rowCount suppressedCount } } }"""
EXPORT = """mutation($id: ID!) { exportListContacts(id: $id) { rows contactDetails } }"""


@pytest.fixture(scope="module")
async def approved(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[GraphStore, str]:
    """The campaign bank with one version drawn by a marketer and approved by an admin."""
    store = await campaign_store(driver, test_settings, tmp_path_factory.mktemp("crash-lists"))
    lists = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    await lists.create(
        CampaignInput("K-CRASH", "春季信用卡", "P1", channel="SMS", purpose="MARKETING", owner="x"),
        created_by="maker",
    )
    version, _ = await lists.draw("K-CRASH", DrawParameters(as_of=AS_OF), drawn_by="maker")
    await lists.approve(version["list_version_id"], subject="checker")
    return store, str(version["list_version_id"])


@dataclass
class Stream:
    """Requests from several threads until the server is gone; what was answered."""

    base: str
    marketer: str
    channel: str
    approved: str
    numbers: itertools.count[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)
    draws: dict[str, tuple[int, int]] = field(default_factory=dict)  # version: (rows, supp.)
    exports: dict[str, int] = field(default_factory=dict)  # purpose: rows handed out
    stopped: threading.Event = field(default_factory=threading.Event)

    def answered(self) -> int:
        with self.lock:
            return len(self.draws) + len(self.exports)

    def _post(self, http: httpx.Client, token: str, document: str, **variables: object) -> dict:  # type: ignore[type-arg]
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Crkg-Purpose": str(variables.pop("purpose", "crash test")),
        }
        response = http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
        return response.json() if response.status_code == 200 else {}  # type: ignore[no-any-return]

    def _one(self, http: httpx.Client, number: int) -> None:
        if number % 2 == 0:
            campaign = f"KC{number:05d}"
            made = self._post(http, self.marketer, CREATE, input={
                "campaignId": campaign, "name": f"崩溃 {number}", "productId": "P1",
                "channel": "SMS", "purpose": "MARKETING"})  # fmt: skip
            if not (made.get("data") or {}).get("createCampaign"):
                return
            drawn = self._post(http, self.marketer, DRAW, id=campaign, top=3 + number % 7)
            result = (drawn.get("data") or {}).get("drawListVersion")
            if result:
                v = result["version"]
                with self.lock:
                    self.draws[v["listVersionId"]] = (v["rowCount"], v["suppressedCount"])
            return
        purpose = f"crash export {number}"
        exported = self._post(http, self.channel, EXPORT, id=self.approved, purpose=purpose)
        result = (exported.get("data") or {}).get("exportListContacts")
        if result:
            assert result["contactDetails"] is True, result
            with self.lock:
                self.exports[purpose] = int(result["rows"])

    def work(self) -> None:
        until_gone(self.base, self.stopped, self.numbers, self._one)


def _stream_and_kill(settings: CrkgSettings, approved: str) -> Stream:
    port = free_port()
    server = serve(settings, port)
    stream = Stream(
        f"http://127.0.0.1:{port}",
        mint_token(settings, role=Role.MARKETER, subject="crash-marketer"),
        mint_token(settings, role=Role.CHANNEL, subject="crash-channel"),
        approved,
    )
    kill_amid(server, stream, answered_before=ANSWERED_BEFORE_THE_KILL, workers=WORKERS)
    return stream


async def test_a_killed_api_leaves_no_half_written_list_and_no_unaudited_export(
    approved: tuple[GraphStore, str], test_settings: CrkgSettings, tmp_path: Path
) -> None:
    store, version_id = approved
    stream = await asyncio.to_thread(_stream_and_kill, test_settings, version_id)
    assert stream.draws
    assert stream.exports
    versions = await query(
        store,
        "MATCH (v:ListVersion) RETURN v.list_version_id AS id, v.row_count AS rows, "
        "v.suppressed_count AS suppressed, COUNT { (v)-[:LISTS]->() } AS listed, "
        "COUNT { (v)-[:SUPPRESSES]->() } AS suppressions, "
        "COUNT { (:Campaign)-[:HAS_VERSION]->(v) } AS campaigns",
    )
    stored = {v["id"]: v for v in versions}
    lost = sorted(set(stream.draws) - set(stored))
    assert not lost, f"answered draws lost: {lost}"
    for version, (rows, suppressed) in stream.draws.items():
        assert (stored[version]["rows"], stored[version]["suppressed"]) == (rows, suppressed)
    # every version, answered or cut off by the kill, is whole
    half = [v for v in versions
            if (v["listed"], v["suppressions"], v["campaigns"]) != (v["rows"], v["suppressed"], 1)]  # fmt: skip
    assert not half, half
    audited = await query(
        store,
        "MATCH (a:AuditEvent) WHERE a.purpose IN $purposes "
        "RETURN a.purpose AS purpose, count(*) AS customers",
        purposes=list(stream.exports),
    )
    by_purpose = {r["purpose"]: r["customers"] for r in audited}
    short = {
        p: (n, by_purpose.get(p, 0)) for p, n in stream.exports.items() if by_purpose.get(p, 0) != n
    }
    assert not short, f"answered contact exports without one audit record per customer: {short}"
