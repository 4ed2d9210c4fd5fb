"""Issue 12 stage 2 on the real server: outcomes loaded through the validated, idempotent
loader (the ``outcomes`` contract file, keyed by list version, treatment code and customer,
for treated and control rows alike; rows naming no row of the version are rejected with the
reason), and the effect read — repository, GraphQL and ``crkg campaign effect`` — giving the
per-arm counts and the cluster-robust estimate of :mod:`graph.effects` on the loaded rows.

The bank is :mod:`tests.support.campaign_bank` without a community run, so every listed
customer (T02, T04, T09, T10) is a cluster of its own and a 0.5 hold-out gives 2 + 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import create_app
from api.security.auth import Role
from graph import clock
from graph.effects import cuped, difference
from graph.lists import DrawParameters
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput as CampaignRecord
from graph.repositories.campaigns import CampaignRepository
from graph.repositories.effects import EffectRepository
from graph.settings import CrkgSettings
from loaders.pipeline import Loader
from tests.integration.api_client import api_for, codes
from tests.support.banks import query
from tests.support.campaign_bank import AS_OF, campaign_store, day, write
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db

EFFECT = """
query($id: ID!) {
  listVersionEffect(id: $id, segmentBy: KIND) {
    listVersionId outcome error cupedNote
    treated { treatment rows withoutOutcome reached declined converted }
    control { treatment rows withoutOutcome reached declined converted }
    estimate { method difference stdError low high pValue degreesOfFreedom
               treatedClusters controlClusters }
    cuped { difference stdError theta varianceReduction }
    segments { segment cuped error estimate { difference } }
    attributionRule credits { customerId treatment credited reason rejected chain }
  }
}
"""


@pytest.fixture(scope="module")
async def loaded(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("effect-bank")
    store = await campaign_store(driver, test_settings, root)
    lists = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    await lists.create(
        CampaignRecord("K-EFF", "效果", "P1", channel="SMS", purpose="MARKETING", owner="cards"),
        created_by="maker",
    )
    version, _ = await lists.draw(
        "K-EFF", DrawParameters(as_of=AS_OF, seed=3, holdout_share=0.5), drawn_by="maker"
    )
    vid = str(version["list_version_id"])
    rows = await lists.rows(vid, limit=100)
    arm = {r["customer_id"]: r["treatment"] for r in rows}
    treated = sorted(c for c, t in arm.items() if t == "T")
    control = sorted(c for c, t in arm.items() if t == "C")
    assert len(treated) == len(control) == 2, arm
    # treated: one converts, one is reached; control: one converts, one has no outcome
    outcome = {treated[0]: "CONVERTED", treated[1]: "REACHED", control[0]: "CONVERTED"}
    pre = {treated[0]: "0.9", treated[1]: "0.2", control[0]: "0.7", control[1]: "0.1"}
    good = [
        {"list_version_id": vid, "treatment": arm[c], "customer_id": c, "outcome": o,
         "day": day(10), "pre_metric": pre[c]}
        for c, o in outcome.items()
    ]  # fmt: skip
    bad = [
        # an unknown list version; a customer suppressed from it; the wrong arm; no customer
        {**good[0], "list_version_id": "K-EFF:v99"},
        {**good[0], "customer_id": "T01"},
        {**good[0], "treatment": "C"},
        {**good[0], "customer_id": "NOBODY"},
    ]
    write(root / "outcomes", "outcomes", good + bad)
    # referrals to the converted: the treated one from both listed introducers (H2 earlier,
    # H2 referred by H3 before); the control one from H1, whom it had referred first (a cycle)
    converted_t, converted_c = treated[0], control[0]
    write(root / "outcomes", "referrals", [
        {"referrer_id": "H1", "referee_id": converted_t, "referred_at": day(2)},
        {"referrer_id": "H2", "referee_id": converted_t, "referred_at": day(1)},
        {"referrer_id": "H3", "referee_id": "H2", "referred_at": day(-40)},
        {"referrer_id": converted_c, "referee_id": "H1", "referred_at": day(0)},
        {"referrer_id": "H1", "referee_id": converted_c, "referred_at": day(3)},
    ])  # fmt: skip
    loader = Loader(store, test_settings, rejects_dir=root / "rejects")
    first = await loader.load(root / "outcomes")
    again = await Loader(store, test_settings, rejects_dir=root / "rejects").load(root / "outcomes")
    # the control row without an outcome gets its pre-period metric later: CUPED needs all
    late = [{"list_version_id": vid, "treatment": "C", "customer_id": control[1],
             "outcome": "REACHED", "day": day(12), "pre_metric": pre[control[1]]}]  # fmt: skip
    return {
        "store": store,
        "version": vid,
        "arm": arm,
        "outcome": outcome,
        "pre": pre,
        "late": late,
        "root": root,
        "reports": (json.loads(first.to_json()), json.loads(again.to_json())),
    }


def test_outcomes_load_once_with_a_reason_for_every_row_off_the_list(
    loaded: dict[str, Any],
) -> None:
    first, again = loaded["reports"]
    (outcomes,) = [f for f in first["files"] if f["file"] == "outcomes"]
    assert outcomes["rows_loaded"] == 3
    (referrals,) = [f for f in first["files"] if f["file"] == "referrals"]
    assert referrals["rows_rejected"] == 0
    assert outcomes["reasons"] == {"DANGLING_REFERENCE": 1, "NOT_ON_LIST": 3}
    messages = " | ".join(e["message"] for e in outcomes["examples"])
    assert "is no stored list version" in messages
    assert "'T01' is not on list version" in messages
    assert "has treatment 'T'" in messages
    (repeat,) = [f for f in again["files"] if f["file"] == "outcomes"]
    assert repeat["rows_loaded"] == 3
    assert repeat["rows_changed"] == 0, "the same file again changes nothing"


async def test_outcomes_are_stored_per_version_treatment_and_customer(
    loaded: dict[str, Any],
) -> None:
    stored = await query(
        loaded["store"],
        "MATCH (v:ListVersion)-[o:OUTCOME]->(c:Customer) "
        "RETURN v.list_version_id AS v, o.treatment AS t, c.customer_id AS c, o.outcome AS o, "
        "o.pre_metric AS x",
    )
    want = {
        (loaded["version"], loaded["arm"][c], c, o, float(loaded["pre"][c]))
        for c, o in loaded["outcome"].items()
    }
    assert {(r["v"], r["t"], r["c"], r["o"], r["x"]) for r in stored} == want


def _close(got: Any, want: Any) -> bool:
    """Equal, with floats to 1e-9 (the server's rows come in list order, not sorted)."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(want)
            and all(_close(got[k], want[k]) for k in want)
        )
    if isinstance(want, float):
        return bool(got == pytest.approx(want, rel=1e-9, abs=1e-12))
    return bool(got == want)


def _planted(loaded: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    customers = sorted(loaded["arm"])
    y = np.array([loaded["outcome"].get(c) == "CONVERTED" for c in customers], dtype=float)
    treated = np.array([loaded["arm"][c] == "T" for c in customers])
    x = np.array([float(loaded["pre"][c]) for c in customers])
    return y, treated, np.array(customers), x


async def test_the_effect_read_is_the_cluster_robust_estimate_on_the_loaded_rows(
    loaded: dict[str, Any],
) -> None:
    effect = await EffectRepository(loaded["store"]).effect(loaded["version"], segment="kind")
    assert effect["arms"]["T"] == {"rows": 2, "without_outcome": 0, "reached": 1, "declined": 0,
                                   "converted": 1, "not_converted": 0}  # fmt: skip
    assert effect["arms"]["C"] == {"rows": 2, "without_outcome": 1, "reached": 0, "declined": 0,
                                   "converted": 1, "not_converted": 0}  # fmt: skip
    y, treated, clusters, _ = _planted(loaded)
    want = difference(y, treated, clusters).to_json()
    assert _close(effect["estimate"], want)
    assert effect["estimate"]["treated"]["clusters"] == 2
    assert "CR1 cluster-robust" in effect["estimate"]["method"]
    assert effect["cuped"] is None
    assert effect["cuped_note"] == "no CUPED: 1 of 4 rows have no pre_metric"
    assert [s["segment"] for s in effect["segments"]] == ["PERSON"]


async def test_each_conversion_credits_one_listed_introducer_and_never_a_cycle(
    loaded: dict[str, Any],
) -> None:
    found = await EffectRepository(loaded["store"]).attribution(loaded["version"])
    assert found["rule"] == "earliest-in-window-listed-introducer"
    credits = {c["customer_id"]: c for c in found["conversions"]}
    converted = {c for c, o in loaded["outcome"].items() if o == "CONVERTED"}
    assert set(credits) == converted, "one attribution per conversion"
    (treated,) = [c for c in converted if loaded["arm"][c] == "T"]
    (control,) = [c for c in converted if loaded["arm"][c] == "C"]
    assert credits[treated]["credited"] == "H2"  # the earlier of H1 and H2
    assert credits[treated]["chain"] == ["H3"]  # kept for analytics, not credited
    assert credits[treated]["treatment"] == "T"
    assert credits[control]["credited"] is None
    assert credits[control]["reason"] == "CYCLE"
    assert [r["reason"] for r in credits[control]["rejected"]] == ["CYCLE"]


@pytest.fixture(scope="module")
def client(loaded: dict[str, Any], test_settings: CrkgSettings) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "today", lambda: AS_OF)
        with TestClient(create_app(test_settings)) as test_client:
            yield test_client


def test_the_effect_over_graphql_for_marketer_risk_and_admin_only(
    loaded: dict[str, Any], client: TestClient, test_settings: CrkgSettings
) -> None:
    marketer = api_for(client, test_settings, Role.MARKETER, "maker")
    effect = marketer.data(EFFECT, id=loaded["version"])["listVersionEffect"]
    assert effect["treated"]["converted"] == effect["control"]["converted"] == 1
    assert effect["control"]["withoutOutcome"] == 1
    assert effect["estimate"]["difference"] == pytest.approx(0.5 - 0.5)
    assert effect["estimate"]["treatedClusters"] == effect["estimate"]["controlClusters"] == 2
    assert effect["segments"][0]["segment"] == "PERSON"
    assert effect["attributionRule"] == "earliest-in-window-listed-introducer"
    assert sorted(c["credited"] or "-" for c in effect["credits"]) == ["-", "H2"]
    for role in (Role.RISK, Role.ADMIN):
        other = api_for(client, test_settings, role, "someone").data(EFFECT, id=loaded["version"])
        assert other == {"listVersionEffect": effect}
    for role, subject in ((Role.RM, "RM1"), (Role.CHANNEL, "callcentre")):
        refused = api_for(client, test_settings, role, subject).errors(EFFECT, id=loaded["version"])
        assert codes(refused) == {"FORBIDDEN"}
    missing = marketer.errors(EFFECT, id="K-EFF:v99")
    assert codes(missing) == {"NOT_FOUND"}


async def test_with_every_pre_metric_the_effect_is_cuped_adjusted_and_the_cli_says_so(
    loaded: dict[str, Any], test_settings: CrkgSettings
) -> None:
    root: Path = loaded["root"]
    write(root / "late", "outcomes", loaded["late"])
    report = await Loader(loaded["store"], test_settings, rejects_dir=root / "rejects").load(
        root / "late"
    )
    assert report.rows_rejected == 0, report.to_json()
    try:
        effect = await EffectRepository(loaded["store"]).effect(loaded["version"])
        y, treated, clusters, x = _planted(loaded)
        assert _close(effect["cuped"], cuped(y, x, treated, clusters).to_json())
        assert effect["cuped"]["theta"] > 0
        assert effect["arms"]["C"]["reached"] == 1
        shown = run_crkg(test_settings, "campaign", "effect", loaded["version"], "--json")
        assert shown.returncode == 0, shown.stderr
        cli_theta = json.loads(shown.stdout)["cuped"]["theta"]
        assert cli_theta == pytest.approx(effect["cuped"]["theta"])
        text = run_crkg(test_settings, "campaign", "effect", loaded["version"], "--segment", "kind")
        assert text.returncode == 0, text.stderr
        assert "CR1 cluster-robust" in text.stdout
        assert "CUPED:" in text.stdout
        refused = run_crkg(test_settings, "campaign", "effect", loaded["version"], "--segment", "x")
        assert refused.returncode != 0
        assert "bad segment" in refused.stderr
    finally:  # the other tests (in random order) read the version without this row
        write(root / "undo", "outcomes", [{**loaded["late"][0], "op": "DELETE"}])
        undo = await Loader(loaded["store"], test_settings, rejects_dir=root / "rejects").load(
            root / "undo"
        )
        assert undo.rows_rejected == 0, undo.to_json()
    after = await EffectRepository(loaded["store"]).effect(loaded["version"])
    assert after["arms"]["C"]["without_outcome"] == 1, "the DELETE row removed the outcome"
