"""Issue 13, stage 2 on the real server: ``referral_targets`` learns its score from the graph's
own dated holdings, names the model in its run, keeps the guardrails, falls back to the fixed
weights when the history is thin (and says so), and the API returns the parts and sentences.

The bank is generated with planted adoption (``synthbank.adoption``): take-up over the last
year spreads along ties to holders, so a product has enough dated adopters to learn from.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from algorithms.referral_model.features import FEATURES
from algorithms.registry import Engine
from algorithms.runner import AlgorithmRunResult, run_algorithm
from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from graph.store import GraphStore
from synthbank.adoption import AdoptionDrivers
from synthbank.bank import generate_bank
from tests.integration.api_client import Api, api_for
from tests.support.banks import loaded_with, query, read_csv
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db

HORIZON = 90


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("learned-bank") / "export"
    generate_bank(out, customers=2500, seed=23, planted_adoption=AdoptionDrivers())
    return out


@pytest.fixture(scope="module")
async def db(
    driver: AsyncDriver,
    test_settings: CrkgSettings,
    bank: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> GraphStore:
    return await loaded_with(driver, test_settings, bank, tmp_path_factory)


def _holdings(bank: Path) -> list[dict[str, str]]:
    return [r for r in read_csv(bank / "holdings.csv") if r["status"] != "CLOSED"]


@pytest.fixture(scope="module")
def product(bank: Path) -> str:
    """The product with the most adopters in its last ``HORIZON`` days of dated history."""
    by_product: dict[str, list[date]] = {}
    for r in _holdings(bank):
        if r["since"]:
            by_product.setdefault(r["product_id"], []).append(date.fromisoformat(r["since"]))
    recent = Counter(
        {
            p: sum(d > max(days) - timedelta(days=HORIZON) for d in days)
            for p, days in by_product.items()
        }
    )
    chosen, adopters = recent.most_common(1)[0]
    assert adopters >= 30, recent  # the planted contagion gave it a history to learn from
    return chosen


async def _targets(db: GraphStore, product: str) -> list[dict[str, Any]]:
    return await query(
        db,
        "MATCH (c:Customer)-[t:REFERRAL_TARGET {scenario_id: '*'}]->(:Product {product_id: $p}) "
        "RETURN c.customer_id AS id, t {.*} AS t ORDER BY t.rank",
        p=product,
    )


async def _run(
    db: GraphStore, settings: CrkgSettings, product: str, **params: Any
) -> AlgorithmRunResult:
    return await run_algorithm(
        db,
        settings,
        "referral_targets",
        {"product_id": product, "top_n": 150, **params},
        engine=Engine.INPROC,
    )


async def test_the_learned_run_names_its_model_and_keeps_the_guardrails(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, product: str
) -> None:
    result = await _run(db, test_settings, product)
    model = result.summary["products"][product]["model"]
    assert result.summary["model"] == "learned"
    assert model["requested"] == "learned"
    assert "fallback" not in model, model
    assert model["served_as"] == f"{model['name']} {model['version']}"
    assert model["features"] == list(FEATURES)
    assert model["seed"] == result.parameters["seed"]
    assert model["positives"] >= 1
    assert model["train_cutoff"] < model["label_until"]
    assert 0.5 < model["metrics"]["validation_auc"] <= 1.0
    # served only because it beat the fixed weights on the same validation rows
    assert model["metrics"]["validation_auc"] > model["fixed_weight_validation_auc"]
    # the AlgorithmRun in the graph holds the same record: a run says which model it used
    (run,) = await query(
        db, "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.summary_json AS s", id=result.run_id
    )
    assert json.loads(run["s"])["products"][product]["model"] == model

    rows = await _targets(db, product)
    assert 0 < len(rows) <= 150
    assert [r["t"]["rank"] for r in rows] == list(range(1, len(rows) + 1))
    scores = [r["t"]["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    customers = {r["customer_id"]: r for r in read_csv(bank / "customers.csv")}
    holders = {r["customer_id"] for r in _holdings(bank) if r["product_id"] == product}
    limit = test_settings.risk_flag_rating

    def barred(c: str) -> bool:
        row = customers[c]
        rating = int(row["risk_rating"]) if row["risk_rating"] else 0
        return row["consent_marketing"] != "true" or rating >= limit

    # the guardrail has work to do here: people tied to holders who may not be contacted
    ties = read_csv(bank / "social.csv")
    near = {t["dst_id"] for t in ties if t["src_id"] in holders}
    near |= {t["src_id"] for t in ties if t["dst_id"] in holders}
    assert any(barred(c) for c in near - holders)
    for row in rows:
        target = row["t"]
        assert row["id"] not in holders
        assert not barred(row["id"])
        assert target["model"] == model["served_as"]
        for introducer in json.loads(target["introducers_json"]):
            assert introducer["customer_id"] in holders
            assert not barred(introducer["customer_id"])
        parts = json.loads(target["parts_json"])
        assert sorted(p["feature"] for p in parts) == sorted(FEATURES)
        assert target["reason_zh"]
        assert target["reason_en"]
        # the parts the campaign lists read are there in the learned mode too
        assert isinstance(target["adamic_adar"], float)
        assert isinstance(target["tie_strength"], float)


async def test_a_thin_history_falls_back_to_the_fixed_weights_and_says_so(
    db: GraphStore, test_settings: CrkgSettings, product: str
) -> None:
    result = await _run(db, test_settings, product, min_adopters=100_000)
    model = result.summary["products"][product]["model"]
    assert model["name"] == "fixed-weight"
    assert model["requested"] == "learned"
    assert "100000 of each needed to fit" in model["fallback"]
    rows = await _targets(db, product)
    assert rows
    assert {r["t"]["model"] for r in rows} == {"fixed-weight"}
    for row in rows:  # the fixed-weight parts add up to the score
        parts = json.loads(row["t"]["parts_json"])
        assert sum(p["contribution"] for p in parts) == pytest.approx(row["t"]["score"])
    fixed = await _run(db, test_settings, product, model="fixed")
    assert fixed.summary["products"][product]["model"] == {
        "name": "fixed-weight",
        "requested": "fixed",
    }


@pytest.fixture(scope="module")
def marketer(db: GraphStore, test_settings: CrkgSettings) -> Iterator[Api]:
    with TestClient(create_app(test_settings)) as client:
        yield api_for(client, test_settings, Role.MARKETER, "marketer-learned")


READ = """query($p: ID!) { referralTargets(productId: $p, first: 20) {
  rank score model reasonZh reasonEn parts { feature value contribution }
  introducers { customerId pathIds } customer { id } } }"""


def _sentence_names(target: dict[str, Any]) -> None:
    """The English sentence names the first introducer kept, or says there is none."""
    if not target["introducers"]:
        assert target["reasonEn"].endswith("no introducer can be contacted now")
        return
    first = target["introducers"][0]
    path = first["pathIds"]
    said = f"{first['customerId']} can introduce"
    if len(path) == 3:
        said += f" through {path[1]}"
    assert target["reasonEn"].endswith(said), target["reasonEn"]
    assert first["customerId"] in target["reasonZh"]


async def test_the_api_returns_the_learned_score_its_parts_and_both_sentences(
    db: GraphStore, test_settings: CrkgSettings, product: str, marketer: Api
) -> None:
    result = await _run(db, test_settings, product)
    served = result.summary["products"][product]["model"]["served_as"]
    stored = {r["id"]: r["t"] for r in await _targets(db, product)}
    answer = marketer.data(READ, p=product)["referralTargets"]
    assert answer
    for target in answer:
        row = stored[target["customer"]["id"]]
        assert target["rank"] == row["rank"]
        assert target["score"] == pytest.approx(row["score"], rel=1e-5)
        assert target["model"] == served
        assert sorted(p["feature"] for p in target["parts"]) == sorted(FEATURES)
        assert target["reasonZh"]
        assert "已持有该产品的客户" in target["reasonZh"]
        assert "holder" in target["reasonEn"]
        _sentence_names(target)

    # an introducer flagged after the run is named by no sentence any more
    named = next(t for t in answer if t["introducers"])
    introducer = named["introducers"][0]["customerId"]
    (before,) = await query(
        db, "MATCH (c:Customer {customer_id: $id}) RETURN c.risk_rating AS r", id=introducer
    )
    await query(
        db,
        "MATCH (c:Customer {customer_id: $id}) SET c.risk_rating = $r",
        id=introducer,
        r=test_settings.risk_flag_rating,
    )
    try:
        again = marketer.data(READ, p=product)["referralTargets"]
        for target in again:
            assert introducer not in target["reasonZh"]
            assert introducer not in target["reasonEn"]
            _sentence_names(target)
    finally:
        await query(
            db,
            "MATCH (c:Customer {customer_id: $id}) SET c.risk_rating = $r",
            id=introducer,
            r=before["r"],
        )


async def test_the_cli_runs_the_learned_model_and_prints_which(
    db: GraphStore, test_settings: CrkgSettings, product: str
) -> None:
    done = await asyncio.to_thread(
        run_crkg,
        test_settings,
        *("algo", "run", "referral_targets", "--engine", "inproc"),
        *("-p", f"product_id={product}", "-p", "top_n=40", "-p", "horizon_days=90"),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "referral-model/1" in done.stdout  # the printed summary names the model
    (run,) = await query(
        db,
        "MATCH (r:AlgorithmRun {name: 'referral_targets', status: 'SUCCEEDED'}) "
        "RETURN r.summary_json AS s, r.parameters_json AS p ORDER BY r.started_at DESC LIMIT 1",
    )
    assert json.loads(run["p"])["top_n"] == 40
    summary = json.loads(run["s"])["products"][product]
    assert summary["model"]["served_as"].endswith("referral-model/1")
    rows = await _targets(db, product)
    assert len(rows) == summary["targets"]
    assert {r["t"]["model"] for r in rows} == {summary["model"]["served_as"]}
