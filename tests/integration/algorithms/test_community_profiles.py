"""Issue 9: community profiles follow their inputs (tiers, holdings) and answer penetration
for any product, checked against the bank's own files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.repositories.communities import CommunityRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from tests.integration.exports import write_csv
from tests.support.banks import module_bank, query, read_csv

pytestmark = pytest.mark.db


bank, db = module_bank("profile-bank", customers=1500, seed=31)


async def _profiles(db: GraphStore) -> dict[str, dict[str, Any]]:
    rows = await query(db, "MATCH (k:Community {algorithm: 'louvain'}) RETURN k {.*} AS k")
    return {r["k"]["local_id"]: r["k"] for r in rows}


async def test_profiles_follow_tiers_and_holdings_and_answer_any_product(
    db: GraphStore, test_settings: CrkgSettings, bank: Path, tmp_path: Path
) -> None:
    # communities first, tiers later: the order a new deployment runs them in
    result = await run_algorithm(db, test_settings, "louvain", engine=Engine.INPROC)
    members: dict[str, list[str]] = defaultdict(list)
    for customer, local in result.values.items():
        members[local].append(customer)
    before = await _profiles(db)
    assert all(json.loads(p["tier_mix_json"]) == {"UNKNOWN": p["size"]} for p in before.values())

    segmentation = await run_algorithm(db, test_settings, "segmentation")
    tiers = {k: v[0].value for k, v in segmentation.values.items() if v[0] is not None}
    after = await _profiles(db)
    assert set(after) == set(before)
    for local, profile in after.items():
        expected = Counter(tiers.get(c, "UNKNOWN") for c in members[local])
        assert json.loads(profile["tier_mix_json"]) == dict(expected)
        assert profile["profile_run_id"] == segmentation.run_id
        assert profile["stale"] is False
        # structure is the community run's: unchanged by the refresh
        assert profile["central_members"] == before[local]["central_members"]
        assert profile["run_id"] == result.run_id

    # penetration of every product, zeros included, exact from the export
    products = [p["product_id"] for p in read_csv(bank / "products.csv")]
    held = {
        (r["customer_id"], r["product_id"])
        for r in read_csv(bank / "holdings.csv")
        if r["status"] != "CLOSED"
    }
    views = CommunityRepository(db)
    some_zero = False
    for local, profile in after.items():
        shares = json.loads(profile["product_penetration_json"])
        assert sorted(shares) == sorted(products)
        for product in products:
            holders = sum(1 for c in members[local] if (c, product) in held)
            assert shares[product] == pytest.approx(holders / len(members[local]), abs=1e-4)
            some_zero |= holders == 0
        row = await views.penetration(f"louvain:{local}", products[-1])
        assert row is not None
        holders = sum(1 for c in members[local] if (c, products[-1]) in held)
        assert (row.holders, row.size) == (holders, len(members[local]))
        assert row.share == holders / len(members[local])
    assert some_zero  # "low penetration of P" includes none at all
    assert await views.penetration("louvain:no-such", products[0]) is None
    assert await views.penetration(f"louvain:{next(iter(after))}", "NOPE") is None

    # a load that changes holdings makes the profiles stale until they are recomputed
    customer = members[next(iter(members))][0]
    product = next(p for p in products if (customer, p) not in held)
    write_csv(
        tmp_path / "holdings.csv",
        ("customer_id", "product_id", "since", "balance", "status"),
        [(customer, product, "2026-06-01", "10.00", "ACTIVE")],
    )
    report = await Loader(db, test_settings, rejects_dir=tmp_path).load(tmp_path)
    assert report.rows_changed == 1
    stale = await _profiles(db)
    assert all(p["stale"] is True for p in stale.values())
    assert all("holdings" in p["stale_reason"] for p in stale.values())
    await run_algorithm(db, test_settings, "segmentation")
    fresh = await _profiles(db)
    local = result.values[customer]
    assert all(p["stale"] is False for p in fresh.values())
    shares = json.loads(fresh[local]["product_penetration_json"])
    holders = sum(1 for c in members[local] if (c, product) in held) + 1
    assert shares[product] == pytest.approx(holders / len(members[local]), abs=1e-4)
