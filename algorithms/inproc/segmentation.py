"""Segmentation: value tier from AUM and lifecycle stage from dates.

These read customer properties, not edges, so they take mappings of customer id to value;
the tiers and stages are graph.model's :class:`~graph.model.Tier` and
:class:`~graph.model.LifecycleStage`, the values written back to the Customer nodes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from algorithms.graphdata import InvalidGraphError
from graph.model import LifecycleStage, Tier
from graph.money import units_to_minor

__all__ = [
    "DEFAULT_AUM_THRESHOLDS",
    "TIER_ORDER",
    "lifecycle_stages",
    "network_value",
    "value_tiers",
]

TIER_ORDER: tuple[Tier, ...] = (Tier.MASS, Tier.AFFLUENT, Tier.HIGH_NET_WORTH, Tier.PRIVATE)

# Lower bounds of AFFLUENT, HIGH_NET_WORTH and PRIVATE in the reporting currency: the usual
# tiering of Chinese retail banks (wealth clients from 100k, high net worth from 1M, private
# banking from 6M CNY). Banks differ, hence the keyword.
DEFAULT_AUM_THRESHOLDS: tuple[int, int, int] = (100_000, 1_000_000, 6_000_000)


def value_tiers(
    aum: Mapping[str, int | None],
    *,
    thresholds: Sequence[float | Decimal] | None = None,
    quantiles: Sequence[float] | None = None,
) -> dict[str, Tier]:
    """Value tier of each customer from assets under management.

    A customer is in the highest tier whose lower bound its AUM reaches. Bounds are fixed
    ``thresholds`` or, with ``quantiles``, the AUM quantiles of these customers (so
    ``(0.5, 0.9, 0.99)`` puts the top 1 % in PRIVATE).

    Parameters
    ----------
    aum : mapping of customer id to AUM in integer minor units (分)
        ``None`` means unknown: such customers get no tier.
    thresholds : three increasing amounts in currency units, optional
        Lower bounds of AFFLUENT, HIGH_NET_WORTH and PRIVATE; default
        :data:`DEFAULT_AUM_THRESHOLDS`. Compared exactly: ``100000.1`` is 10000010 分.
    quantiles : three increasing floats in [0, 1], optional
        Use data quantiles as the bounds instead; not together with ``thresholds``.

    Examples
    --------
    >>> tiers = value_tiers({"a": 500_000, "b": 25_000_000, "c": 2 * 10**8, "d": 10**9, "e": None})
    >>> {customer: tier.value for customer, tier in tiers.items()}
    {'a': 'MASS', 'b': 'AFFLUENT', 'c': 'HIGH_NET_WORTH', 'd': 'PRIVATE'}
    >>> value_tiers({"a": 1, "b": 2, "c": 3, "d": 4}, quantiles=(0.25, 0.5, 0.75))["d"].value
    'PRIVATE'
    """
    if thresholds is not None and quantiles is not None:
        raise InvalidGraphError("give thresholds or quantiles, not both")
    known = {customer: int(value) for customer, value in aum.items() if value is not None}
    values = np.fromiter(known.values(), dtype=np.int64, count=len(known))
    if quantiles is not None:
        _check_bounds(quantiles, "quantiles")
        if not all(0 <= q <= 1 for q in quantiles):
            raise InvalidGraphError("quantiles must lie in [0, 1]")
        found = np.quantile(values, quantiles) if values.size else np.zeros(len(quantiles))
        # AUM is whole minor units: reaching a bound b means reaching ceil(b)
        bounds = np.ceil(found).astype(np.int64)
    else:
        chosen = DEFAULT_AUM_THRESHOLDS if thresholds is None else thresholds
        _check_bounds(chosen, "thresholds")
        bounds = np.asarray([math.ceil(units_to_minor(b)) for b in chosen], dtype=np.int64)
    levels = np.searchsorted(bounds, values, side="right")
    return {
        customer: TIER_ORDER[level] for customer, level in zip(known, levels.tolist(), strict=True)
    }


def _check_bounds(bounds: Sequence[float | Decimal], name: str) -> None:
    if len(bounds) != len(TIER_ORDER) - 1:
        raise InvalidGraphError(f"{name} needs {len(TIER_ORDER) - 1} values, got {len(bounds)}")
    if any(low > high for low, high in itertools.pairwise(bounds)):
        raise InvalidGraphError(f"{name} must be increasing")


def _day(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


def lifecycle_stages(
    onboarded_at: Mapping[str, date | datetime | None],
    last_active_at: Mapping[str, date | datetime | None],
    *,
    reference_date: date,
    new_days: int = 90,
    churn_risk_days: int = 90,
    dormant_days: int = 180,
) -> dict[str, LifecycleStage]:
    """Lifecycle stage of each customer on ``reference_date``.

    NEW when onboarded less than ``new_days`` ago; otherwise, by days since last activity
    (since onboarding if never active): DORMANT above ``dormant_days``, CHURN_RISK from
    ``churn_risk_days`` to ``dormant_days``, ACTIVE below.

    Parameters
    ----------
    onboarded_at, last_active_at : mappings of customer id to date or datetime
        A customer in either mapping is staged; one with neither date known is left out.
    reference_date : date
        "Today"; an argument so that results are reproducible.
    new_days, churn_risk_days, dormant_days : int
        The thresholds, in days.

    Examples
    --------
    >>> from datetime import date
    >>> today = date(2025, 6, 30)
    >>> stages = lifecycle_stages(
    ...     {"n": date(2025, 5, 1), "a": date(2020, 1, 1), "c": date(2020, 1, 1),
    ...      "d": date(2020, 1, 1)},
    ...     {"a": date(2025, 6, 1), "c": date(2025, 2, 1), "d": date(2024, 6, 1)},
    ...     reference_date=today,
    ... )
    >>> {customer: stage.value for customer, stage in stages.items()}
    {'n': 'NEW', 'a': 'ACTIVE', 'c': 'CHURN_RISK', 'd': 'DORMANT'}
    """
    if not 0 <= churn_risk_days <= dormant_days:
        raise InvalidGraphError("need 0 <= churn_risk_days <= dormant_days")
    stages: dict[str, LifecycleStage] = {}
    for customer in dict.fromkeys([*onboarded_at, *last_active_at]):
        onboarded = _day(onboarded_at.get(customer))
        active = _day(last_active_at.get(customer))
        if onboarded is not None and (reference_date - onboarded).days < new_days:
            stages[customer] = LifecycleStage.NEW
            continue
        since = active if active is not None else onboarded
        if since is None:
            continue
        idle = (reference_date - since).days
        if idle > dormant_days:
            stages[customer] = LifecycleStage.DORMANT
        elif idle >= churn_risk_days:
            stages[customer] = LifecycleStage.CHURN_RISK
        else:
            stages[customer] = LifecycleStage.ACTIVE
    return stages


def network_value(
    aum: Mapping[str, float | None],
    influence: Mapping[str, float],
    *,
    value_weight: float = 0.5,
) -> dict[str, float]:
    """Value plus influence: a blend of the percentile ranks of AUM and of influence.

    ``value_weight * rank(aum) + (1 - value_weight) * rank(influence)``, where ``rank`` is
    the average rank divided by the number of customers, in (0, 1]; a missing AUM or
    influence counts as 0. Percentile ranks make money and PageRank, whose scales have
    nothing in common, comparable and keep one whale from flattening everyone else.

    Parameters
    ----------
    aum : mapping of customer id to AUM (None = unknown)
        Every customer to score; any unit (minor units as stored): only ranks matter.
    influence : mapping of customer id to float
        E.g. ``score_pagerank``.
    value_weight : float
        In [0, 1].

    Examples
    --------
    >>> network_value({"a": 10.0, "b": 20.0, "c": None}, {"a": 0.5, "b": 0.1, "c": 0.4})
    {'a': 0.8333333333333333, 'b': 0.6666666666666666, 'c': 0.5}
    """
    if not 0 <= value_weight <= 1:
        raise InvalidGraphError(f"value_weight must be in [0, 1], got {value_weight}")
    from scipy.stats import rankdata

    ids = list(aum)
    if not ids:
        return {}
    money = np.array([float(aum[i] or 0.0) for i in ids])
    reach = np.array([float(influence.get(i, 0.0)) for i in ids])
    blended = value_weight * rankdata(money) / len(ids) + (1 - value_weight) * rankdata(
        reach
    ) / len(ids)
    return dict(zip(ids, blended.tolist(), strict=True))
