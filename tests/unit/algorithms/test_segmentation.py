"""Tiers and lifecycle stages at and around their boundaries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from algorithms.graphdata import InvalidGraphError
from algorithms.inproc.segmentation import DEFAULT_AUM_THRESHOLDS, lifecycle_stages, value_tiers
from graph.model import LifecycleStage, Tier


def test_thresholds_are_inclusive_lower_bounds() -> None:
    # AUM in minor units (分), thresholds in currency units: compared exactly
    low, mid, high = (int(t * 100) for t in DEFAULT_AUM_THRESHOLDS)
    tiers = value_tiers(
        {"a": low - 1, "b": low, "c": mid, "d": high - 1, "e": high, "f": -500, "g": 0}
    )
    assert tiers == {
        "a": Tier.MASS,
        "b": Tier.AFFLUENT,
        "c": Tier.HIGH_NET_WORTH,
        "d": Tier.HIGH_NET_WORTH,
        "e": Tier.PRIVATE,
        "f": Tier.MASS,
        "g": Tier.MASS,
    }


def test_custom_thresholds_and_unknown_aum() -> None:
    tiers = value_tiers({"a": 1000, "b": 2000, "c": None}, thresholds=(5, 15, 25))
    assert tiers == {"a": Tier.AFFLUENT, "b": Tier.HIGH_NET_WORTH}


def test_thresholds_with_cents_compare_exactly() -> None:
    # 100000.10 yuan is 10000010 分: one fen below stays MASS, a float would blur the edge
    bounds = (100000.1, 1000000.01, 6000000.07)
    tiers = value_tiers(
        {"a": 10000009, "b": 10000010, "c": 100000000, "d": 600000007}, thresholds=bounds
    )
    assert tiers == {"a": Tier.MASS, "b": Tier.AFFLUENT, "c": Tier.AFFLUENT, "d": Tier.PRIVATE}


def test_quantile_tiers_follow_the_distribution() -> None:
    rng = np.random.default_rng(0)
    aum = {f"c{i}": round(value * 100) for i, value in enumerate(rng.lognormal(11, 1.5, 10_000))}
    tiers = value_tiers(aum, quantiles=(0.5, 0.9, 0.99))
    counts = {tier: sum(t == tier for t in tiers.values()) for tier in Tier}
    assert counts == {
        Tier.MASS: 5000,
        Tier.AFFLUENT: 4000,
        Tier.HIGH_NET_WORTH: 900,
        Tier.PRIVATE: 100,
    }
    richest = max(aum, key=aum.__getitem__)
    assert tiers[richest] is Tier.PRIVATE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"thresholds": (1, 2)}, "3 values"),
        ({"thresholds": (3, 2, 1)}, "increasing"),
        ({"quantiles": (0.5, 0.9, 1.5)}, r"\[0, 1\]"),
        ({"thresholds": (1, 2, 3), "quantiles": (0.1, 0.2, 0.3)}, "not both"),
    ],
)
def test_bad_bounds_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidGraphError, match=message):
        value_tiers({"a": 1.0}, **options)  # type: ignore[arg-type]


TODAY = date(2025, 6, 30)


def _ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_lifecycle_boundaries() -> None:
    old = _ago(1000)
    onboarded = {
        "new_89": _ago(89),
        "not_new_90": _ago(90),
        "active_89": old,
        "risk_90": old,
        "risk_180": old,
        "dormant_181": old,
    }
    active = {
        "not_new_90": _ago(10),
        "active_89": _ago(89),
        "risk_90": _ago(90),
        "risk_180": _ago(180),
        "dormant_181": _ago(181),
    }
    stages = lifecycle_stages(onboarded, active, reference_date=TODAY)
    assert stages == {
        "new_89": LifecycleStage.NEW,
        "not_new_90": LifecycleStage.ACTIVE,
        "active_89": LifecycleStage.ACTIVE,
        "risk_90": LifecycleStage.CHURN_RISK,
        "risk_180": LifecycleStage.CHURN_RISK,
        "dormant_181": LifecycleStage.DORMANT,
    }


def test_lifecycle_with_missing_dates_and_datetimes() -> None:
    stages = lifecycle_stages(
        {"never_active": _ago(400), "no_dates": None, "new_but_idle": _ago(30)},
        {
            "only_active": datetime(2025, 6, 29, 23, 0, tzinfo=UTC),
            "no_dates": None,
            "new_but_idle": _ago(30),
        },
        reference_date=TODAY,
    )
    assert stages == {
        "never_active": LifecycleStage.DORMANT,
        "new_but_idle": LifecycleStage.NEW,
        "only_active": LifecycleStage.ACTIVE,
    }


def test_lifecycle_thresholds_are_configurable() -> None:
    stages = lifecycle_stages(
        {"a": _ago(500)},
        {"a": _ago(40)},
        reference_date=TODAY,
        churn_risk_days=30,
        dormant_days=60,
    )
    assert stages == {"a": LifecycleStage.CHURN_RISK}
    with pytest.raises(InvalidGraphError):
        lifecycle_stages({}, {}, reference_date=TODAY, churn_risk_days=100, dormant_days=50)
