"""Planted outcomes for a drawn list version (issue 12, item 9): the ``outcomes`` contract
rows of every list row, from a known treatment effect (overall plus one per segment), an
intra-cluster correlation through the hold-out clusters, spill-over into control rows with
many ties into the treated arm (``cross_arm``), and a pre-period metric, so that a test can
check that :mod:`graph.effects` recovers what was planted.

List versions are drawn in the database, so these rows are made from a drawn version's rows
(not by :func:`synthbank.bank.generate_bank`).

The model, per row ``i`` of cluster ``g``: ``p_g ~ Beta`` with mean ``base`` and intra-cluster
correlation ``icc``; ``u_i`` uniform; converted without treatment iff ``u_i < p_g``; with it
iff ``u_i < p_g + effect + segment_effects[segment]`` (clipped to 1); a control row flagged
``cross_arm`` converts iff ``u_i < p_g + spillover · effect``. A converted treated row is
``CONVERTED``; a treated row that did not convert is ``REACHED`` or ``DECLINED`` (half each),
a control row ``NOT_CONVERTED``: every row has its outcome row (and its pre-period metric).
``pre_metric`` is the untreated outcome plus noise with the same intra-cluster correlation.

Examples
--------
>>> rows = [{"customer_id": f"C{i}", "treatment": "TC"[i % 2], "cluster": str(i // 2 % 9)}
...         for i in range(40)]
>>> planted = plant_outcomes("K1:v1", rows, OutcomePlan(effect=0.1), seed=1)
>>> len(planted.rows), {r["outcome"] for r in planted.rows} <= set(ContactOutcome)
(40, True)
>>> planted.truth["effect"]
0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from graph.enums import ContactOutcome, TreatmentCode

SALT = 0x0C0E  # the outcomes' own stream of the seed


@dataclass(frozen=True)
class OutcomePlan:
    effect: float  # the planted effect on the conversion rate (treated − control)
    base: float = 0.2  # the control conversion rate
    icc: float = 0.08  # intra-cluster correlation of the conversion
    segment_effects: Mapping[str, float] = field(default_factory=dict)  # added per segment
    spillover: float = 0.0  # the share of the effect a cross-arm control row receives
    noise: float = 0.6  # the pre-period metric's noise (rho^2 = var(y) / (var(y) + noise^2))
    day: date = date(2026, 7, 15)  # outcomes fall within 30 days from here


@dataclass(frozen=True)
class PlantedOutcomes:
    rows: list[dict[str, str]]  # the outcomes file's rows (contract columns)
    truth: dict[str, Any]  # what was planted


def plant_outcomes(
    list_version_id: str,
    list_rows: Sequence[Mapping[str, Any]],
    plan: OutcomePlan,
    *,
    seed: int,
    segments: Mapping[str, str] | None = None,
) -> PlantedOutcomes:
    """The outcomes of a list version's rows (each: ``customer_id``, ``treatment``,
    ``cluster`` and optionally ``cross_arm``), deterministic from ``seed``; ``segments``
    maps a customer to the segment whose ``segment_effects`` entry applies."""
    rng = np.random.default_rng([seed, SALT])
    keys = [str(r.get("cluster") or f"row:{r['customer_id']}") for r in list_rows]
    names, cluster = np.unique(np.array(keys), return_inverse=True)
    concentration = 1 / plan.icc - 1
    p = rng.beta(plan.base * concentration, (1 - plan.base) * concentration, len(names))
    n = len(list_rows)
    u = rng.random(n)
    treated = np.array([r["treatment"] == TreatmentCode.TREATED.value for r in list_rows])
    cross = np.array([bool(r.get("cross_arm")) for r in list_rows])
    extra = np.array(
        [plan.segment_effects.get((segments or {}).get(str(r["customer_id"]), ""), 0.0)
         for r in list_rows]
    )  # fmt: skip
    lift = np.where(treated, plan.effect + extra, np.where(cross, plan.spillover * plan.effect, 0))
    untreated = u < p[cluster]
    converted = u < np.minimum(p[cluster] + lift, 1.0)
    shared = rng.standard_normal(len(names))[cluster]
    noise = np.sqrt(plan.icc) * shared + np.sqrt(1 - plan.icc) * rng.standard_normal(n)
    pre = untreated.astype(np.float64) + plan.noise * noise
    declined = rng.random(n) < 0.5
    days = rng.integers(0, 30, n)
    rows: list[dict[str, str]] = []
    for i, row in enumerate(list_rows):
        if converted[i]:
            outcome = ContactOutcome.CONVERTED
        elif treated[i]:
            outcome = ContactOutcome.DECLINED if declined[i] else ContactOutcome.REACHED
        else:
            outcome = ContactOutcome.NOT_CONVERTED
        rows.append(
            {
                "list_version_id": list_version_id,
                "treatment": str(row["treatment"]),
                "customer_id": str(row["customer_id"]),
                "outcome": outcome.value,
                "day": (plan.day + timedelta(days=int(days[i]))).isoformat(),
                "pre_metric": f"{pre[i]:.6f}",
            }
        )
    truth = {
        "effect": plan.effect,
        "base": plan.base,
        "icc": plan.icc,
        "segment_effects": dict(plan.segment_effects),
        "spillover": plan.spillover,
        "pre_metric_by_customer": {
            str(r["customer_id"]): round(float(pre[i]), 6) for i, r in enumerate(list_rows)
        },
    }
    return PlantedOutcomes(rows, truth)
