"""Issue 12 item 4 on the real server: a list version drawn with a hold-out has every cluster
(its stored community, or a sub-community of an oversized one) in one arm, the arms' counts
and the SRM check on the version, control rows in the masked export with their code and
absent from contact exports, the same inputs -> the same hash, and the cross-arm flag.

The bank is :mod:`tests.support.campaign_bank` with Louvain run on it, plus ties planted
after the run: between listed customers of different communities (for the cross-arm flag),
and inside H2's community, so that it splits along two sub-communities (every community of a
4-row list holds more than 1% of it).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from graph.lists import DrawParameters
from graph.queries.screens import RiskFlagRule
from graph.repositories.campaigns import CampaignInput, CampaignRepository
from graph.settings import CrkgSettings
from loaders.pipeline import Loader
from tests.support.banks import query
from tests.support.campaign_bank import AS_OF, EXPECTED_CODES, TARGETS, campaign_store, write
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db
LISTED = set(TARGETS) - set(EXPECTED_CODES)  # T02, T04, T09, T10
CROSS_TIES = [("T09", "T02"), ("T09", "T04"), ("T09", "T10")]
# inside H2's community: sub-communities {T02, T04} and {T08, T10} around the hub H2
INNER_TIES = [("T02", "T04"), ("T08", "T10")]
LIST_TIES = [t for t in CROSS_TIES + INNER_TIES if set(t) <= LISTED]


@pytest.fixture(scope="module")
async def lists(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> CampaignRepository:
    root = tmp_path_factory.mktemp("holdout-bank")
    store = await campaign_store(driver, test_settings, root, "louvain", "leiden")
    ties = [{"src_id": a, "dst_id": b, "kind": "FRIEND", "strength": "0.5"} for a, b in CROSS_TIES]
    ties += [{"src_id": a, "dst_id": b, "kind": "FAMILY", "strength": "1.0"} for a, b in INNER_TIES]
    write(root / "ties", "social", ties)
    report = await Loader(store, test_settings, rejects_dir=root / "rejects").load(root / "ties")
    assert report.rows_rejected == 0, report.to_json()
    repository = CampaignRepository(store, risk_rule=RiskFlagRule.from_settings(test_settings))
    await repository.create(
        CampaignInput("K-HOLD", "对照组", "P1", channel="SMS", purpose="MARKETING", owner="cards"),
        created_by="maker",
    )
    return repository


async def communities(lists: CampaignRepository) -> dict[str, str]:
    found = await query(
        lists.runner,  # type: ignore[arg-type]
        "MATCH (c:Customer) WHERE c.community_louvain IS NOT NULL "
        "RETURN c.customer_id AS id, toString(c.community_louvain) AS k",
    )
    return {r["id"]: r["k"] for r in found}


async def drawn_with_control(lists: CampaignRepository) -> tuple[dict[str, object], int]:
    """The first seed whose draw holds out a control arm and treats someone."""
    for seed in range(20):
        params = DrawParameters(as_of=AS_OF, seed=seed, holdout_share=0.5)
        version, _ = await lists.draw("K-HOLD", params, drawn_by="maker")
        if version["control_count"] and version["treated_count"]:
            return version, seed
    pytest.fail("no seed in 0..19 gave both arms")


async def test_every_community_of_a_list_with_a_hold_out_is_in_one_arm(
    lists: CampaignRepository,
) -> None:
    version, seed = await drawn_with_control(lists)
    rows = await lists.rows(str(version["list_version_id"]), limit=100)
    assert {r["customer_id"] for r in rows} == LISTED, "the hold-out changes no one's listing"
    stored = await communities(lists)
    assert len({stored[c] for c in LISTED}) >= 2, "the bank's list spans several communities"
    arms: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        assert row["treatment"] in {"T", "C"}
        assert row["reasons"]["community"] == stored[row["customer_id"]]
        assert row["cluster"].split("/")[0] == stored[row["customer_id"]]
        arms[row["cluster"]].add(row["treatment"])
    assert all(len(a) == 1 for a in arms.values()), arms
    by_community: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if "/" not in row["cluster"]:  # not split: the whole community is the unit
            by_community[row["cluster"]].add(row["treatment"])
    assert all(len(a) == 1 for a in by_community.values())
    counted = {t: sum(1 for r in rows if r["treatment"] == t) for t in ("T", "C")}
    assert (version["treated_count"], version["control_count"]) == (counted["T"], counted["C"])
    assert version["holdout_share"] == 0.5
    assert 0.0 <= float(version["srm_p_value"]) <= 1.0  # type: ignore[arg-type]
    assert version["srm_warning"] is False, "4 rows cannot show a mismatch at alpha 0.001"
    # H2's community is split along its sub-communities: {T02, T04} apart from T10
    cluster = {r["customer_id"]: r["cluster"] for r in rows}
    assert cluster["T02"] == cluster["T04"]
    assert cluster["T10"] != cluster["T02"]
    assert all(cluster[c].startswith(stored["H2"] + "/") for c in ("T02", "T04", "T10"))
    # each row's share of ties to the list that lead into the other arm, and its flag
    row = {r["customer_id"]: r for r in rows}
    for customer in LISTED:
        others = [b if a == customer else a for a, b in LIST_TIES if customer in (a, b)]
        across = [o for o in others if row[o]["treatment"] != row[customer]["treatment"]]
        share = round(len(across) / len(others), 6) if others else 0.0
        assert row[customer]["cross_arm_share"] == share, customer
        assert row[customer]["cross_arm"] is (share > 0.5), customer
    # the same inputs give the same version; no hold-out gives every row T and no arm data
    again, created = await lists.draw(
        "K-HOLD", DrawParameters(as_of=AS_OF, seed=seed, holdout_share=0.5), drawn_by="other"
    )
    assert not created
    assert again["content_hash"] == version["content_hash"]
    plain, _ = await lists.draw("K-HOLD", DrawParameters(as_of=AS_OF, seed=seed), drawn_by="m")
    assert plain["content_hash"] != version["content_hash"]
    assert "holdout_share" not in plain
    plain_rows = await lists.rows(str(plain["list_version_id"]), limit=100)
    assert {r["treatment"] for r in plain_rows} == {"T"}
    assert {r["cluster"] for r in plain_rows} == {None}


async def test_control_rows_are_exported_masked_with_their_code_and_never_for_contact(
    lists: CampaignRepository,
) -> None:
    version, _ = await drawn_with_control(lists)
    vid = str(version["list_version_id"])
    rows = await lists.rows(vid, limit=100)
    control = {r["customer_id"] for r in rows if r["treatment"] == "C"}
    masked = await lists.export(vid, "csv", contact_details=False, subject="m", role="marketer",
                                as_of=AS_OF)  # fmt: skip
    records = list(csv.DictReader(io.StringIO(masked.content.decode())))
    assert {r["customer_id"]: r["treatment"] for r in records} == {
        r["customer_id"]: r["treatment"] for r in rows
    }
    assert masked.manifest["treatment_codes"] == {"C": len(control), "T": len(rows) - len(control)}
    assert masked.manifest["holdout"]["arms"] == {"T": len(rows) - len(control), "C": len(control)}
    if not version.get("approved_by"):
        await lists.approve(vid, subject="checker")
    contacts = await lists.export(vid, "csv", contact_details=True, subject="cc", role="channel",
                                  as_of=AS_OF)  # fmt: skip
    records = list(csv.DictReader(io.StringIO(contacts.content.decode())))
    assert {r["customer_id"] for r in records} == LISTED - control
    assert {r["treatment"] for r in records} == {"T"}
    assert contacts.manifest["holdout"]["control_withheld"] == len(control)
    assert contacts.manifest["treatment_codes"] == {"T": len(rows) - len(control)}


def test_the_draw_command_takes_a_hold_out_share(
    lists: CampaignRepository, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    def crkg(*args: str) -> subprocess.CompletedProcess[str]:
        return run_crkg(test_settings, "campaign", *args)

    drawn = crkg("draw", "K-HOLD", "--as-of", AS_OF.isoformat(), "--seed", "77",
                 "--holdout-share", "0.5", "--by", "maker")  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr
    assert "hold-out 0.5:" in drawn.stdout
    assert "SRM p =" in drawn.stdout
    refused = crkg("draw", "K-HOLD", "--as-of", AS_OF.isoformat(), "--holdout-share", "0.7")
    assert refused.returncode != 0
    assert "holdout_share" in refused.stderr


async def test_a_hold_out_clusters_by_the_community_run_it_names(
    lists: CampaignRepository,
) -> None:
    params = DrawParameters(as_of=AS_OF, seed=2, holdout_share=0.5, holdout_community="leiden")
    version, _ = await lists.draw("K-HOLD", params, drawn_by="maker")
    stored = await query(
        lists.runner,  # type: ignore[arg-type]
        "MATCH (c:Customer) WHERE c.community_leiden IS NOT NULL RETURN c.customer_id AS id, "
        "toString(c.community_leiden) AS k, c.community_leiden_run_id AS run",
    )
    leiden = {r["id"]: r["k"] for r in stored}
    rows = await lists.rows(str(version["list_version_id"]), limit=100)
    assert {r["customer_id"] for r in rows} == LISTED
    for row in rows:
        assert row["cluster"].split("/")[0] == leiden[row["customer_id"]]
    assert {r["run"] for r in stored} <= set(version["algorithm_run_ids"])  # type: ignore[arg-type]
    assert json.loads(str(version["parameters_json"]))["holdout_community"] == "leiden"
