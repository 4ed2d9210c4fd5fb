"""synthbank.outcomes: the planted outcomes of a list version are contract rows, one per list
row, deterministic from the seed, and graph.effects recovers the planted effect from them —
overall, per segment, with CUPED cutting the variance — and the spill-over shows in the
cross-arm control rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from graph.effects import by_segment, cuped, difference
from loaders.contract import SPECS
from synthbank.outcomes import OutcomePlan, plant_outcomes

DRAWS = 40
EFFECT, SME_EXTRA = 0.05, 0.10


def list_rows(seed: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A drawn list: 300 clusters of 5–40 rows, half the clusters in control; every third
    cluster SME; a tenth of the control rows flagged cross_arm."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 41, 300)
    control = set(rng.permutation(300)[:150].tolist())
    rows, segments = [], {}
    for g, size in enumerate(sizes.tolist()):
        for i in range(size):
            customer = f"C{g:03d}-{i:02d}"
            arm = "C" if g in control else "T"
            cross = arm == "C" and rng.random() < 0.1
            rows.append({"customer_id": customer, "treatment": arm, "cluster": f"k{g}",
                         "cross_arm": cross})  # fmt: skip
            segments[customer] = "SME" if g % 3 == 0 else "RETAIL"
    return rows, segments


def arrays(rows: list[dict[str, Any]], planted: list[dict[str, str]]) -> dict[str, Any]:
    by_customer = {r["customer_id"]: r for r in planted}
    return {
        "y": np.array([by_customer[r["customer_id"]]["outcome"] == "CONVERTED" for r in rows],
                      dtype=float),
        "x": np.array([float(by_customer[r["customer_id"]]["pre_metric"]) for r in rows]),
        "t": np.array([r["treatment"] == "T" for r in rows]),
        "g": np.array([r["cluster"] for r in rows]),
    }  # fmt: skip


def test_one_contract_row_per_list_row_deterministic_from_the_seed() -> None:
    rows, _ = list_rows(1)
    plan = OutcomePlan(effect=EFFECT)
    a = plant_outcomes("K1:v1", rows, plan, seed=5)
    assert a == plant_outcomes("K1:v1", rows, plan, seed=5)
    assert a.rows != plant_outcomes("K1:v1", rows, plan, seed=6).rows
    assert len(a.rows) == len(rows)
    assert {tuple(r) for r in a.rows} == {SPECS["outcomes"].columns}
    assert {r["outcome"] for r in a.rows if r["treatment"] == "C"} <= {"CONVERTED",
                                                                        "NOT_CONVERTED"}  # fmt: skip


def test_the_estimates_recover_the_planted_effect_overall_and_per_segment() -> None:
    plan = OutcomePlan(effect=EFFECT, segment_effects={"SME": SME_EXTRA})
    overall, sme, retail, reductions, covered = [], [], [], [], 0
    for draw in range(DRAWS):
        rows, segments = list_rows(100 + draw)
        planted = plant_outcomes("K1:v1", rows, plan, seed=draw, segments=segments)
        a = arrays(rows, planted.rows)
        share_sme = np.mean(
            [segments[r["customer_id"]] == "SME" for r in rows if r["treatment"] == "T"]
        )
        truth = EFFECT + SME_EXTRA * share_sme
        est = difference(a["y"], a["t"], a["g"])
        overall.append(est.difference - truth)
        covered += est.low <= truth <= est.high
        parts = by_segment(a["y"], a["t"], a["g"], [segments[r["customer_id"]] for r in rows])
        sme.append(parts["SME"].difference)  # type: ignore[union-attr]
        retail.append(parts["RETAIL"].difference)  # type: ignore[union-attr]
        reductions.append(cuped(a["y"], a["x"], a["t"], a["g"]).variance_reduction)
    assert abs(np.mean(overall)) < 0.01  # unbiased: the mean error over the draws
    assert covered >= 0.85 * DRAWS
    assert np.mean(sme) == pytest.approx(EFFECT + SME_EXTRA, abs=0.02)
    assert np.mean(retail) == pytest.approx(EFFECT, abs=0.02)
    assert np.mean(reductions) > 0.2  # the planted pre-period metric carries rho^2 ~ 0.3


def test_spill_over_lifts_the_cross_arm_control_rows() -> None:
    lifted, plain = [], []
    for draw in range(10):
        rows, _ = list_rows(200 + draw)
        for spill, out in ((0.8, lifted), (0.0, plain)):
            planted = plant_outcomes(
                "K1:v1", rows, OutcomePlan(effect=0.3, spillover=spill), seed=draw
            )
            a = arrays(rows, planted.rows)
            cross = np.array([bool(r["cross_arm"]) for r in rows])
            out.append(a["y"][cross & ~a["t"]].mean())
    assert np.mean(lifted) - np.mean(plain) == pytest.approx(0.8 * 0.3, abs=0.05)
