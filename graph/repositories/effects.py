"""The measured effect of a list version: conversions per arm from the loaded outcomes, the
cluster-robust difference (:mod:`graph.effects`), CUPED when every row has its pre-period
metric, the same per segment of a customer property, and who is credited with each
conversion (:mod:`graph.attribution`)."""

from __future__ import annotations

import json
from typing import Any, Final

import numpy as np

from graph.attribution import RULE, Conversion, Referral, attribute
from graph.effects import EffectError, Estimate, by_segment, cuped, difference
from graph.enums import ContactOutcome, NodeLabel, TreatmentCode
from graph.errors import CrkgError, NotFoundError
from graph.queries import effects as q
from graph.store import QueryRunner

# The customer properties an effect may be broken down by.
SEGMENTS: Final = ("kind", "tier", "lifecycle_stage", "branch_id")
CONVERTED: Final = ContactOutcome.CONVERTED.value


def _arm_outcomes(rows: list[dict[str, Any]], treatment: str) -> dict[str, int]:
    mine = [r for r in rows if r["treatment"] == treatment]
    counts = {
        o.value.lower(): sum(1 for r in mine if r["outcome"] == o.value) for o in ContactOutcome
    }
    return {"rows": len(mine), "without_outcome": sum(1 for r in mine if r["outcome"] is None),
            **counts}  # fmt: skip


def _estimate(est: Estimate | str) -> dict[str, Any]:
    return {"error": est} if isinstance(est, str) else est.to_json()


def _native_day(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


class EffectRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def attribution(self, list_version_id: str) -> dict[str, Any]:
        """Who is credited with each conversion of a list version, by
        :data:`graph.attribution.RULE` over the bank's referrals (window: the version's
        ``as_of`` to the conversion's day)."""
        found = await self.runner.fetch_one(
            "read attribution inputs", q.ATTRIBUTION_INPUTS, list_version_id=list_version_id
        )
        if found is None:
            raise NotFoundError(NodeLabel.LIST_VERSION.value, list_version_id)
        introducers = {
            str(json.loads(text)["introducer_id"])
            for text in found["reasons"]
            if json.loads(text).get("introducer_id") is not None
        }
        conversions = sorted(
            (dict(c) for c in found["conversions"]), key=lambda c: str(c["customer_id"])
        )
        referrals = [
            Referral(str(r["referrer_id"]), str(r["referee_id"]), _native_day(r["referred_at"]))
            for r in found["referrals"]
            if r["referred_at"] is not None
        ]
        credits = attribute(
            [Conversion(str(c["customer_id"]), _native_day(c["day"])) for c in conversions],
            referrals,
            introducers,
            start=_native_day(found["as_of"]),
        )
        return {
            "rule": RULE,
            "conversions": [
                {**credit.to_json(), "treatment": c["treatment"]}
                for credit, c in zip(credits, conversions, strict=True)
            ],
        }

    async def effect(self, list_version_id: str, *, segment: str | None = None) -> dict[str, Any]:
        """The effect of a list version's treatment on conversion (outcome ``CONVERTED``;
        a row without an outcome counts as not converted), with per-arm counts, the
        difference treated − control, its 95% cluster-robust interval and the method, CUPED
        when every row carries ``pre_metric``, and per segment of ``segment`` if given.
        ``error`` says why an estimate cannot be made (no hold-out, too few clusters)."""
        if segment is not None and segment not in SEGMENTS:
            raise CrkgError(f"bad segment {segment!r}: one of {', '.join(SEGMENTS)}")
        found = await self.runner.fetch_one(
            "read list version effect",
            q.EFFECT_ROWS,
            list_version_id=list_version_id,
            segment=segment,
        )
        if found is None:
            raise NotFoundError(NodeLabel.LIST_VERSION.value, list_version_id)
        rows = [dict(r) for r in found["rows"]]
        arms = {t.value: _arm_outcomes(rows, t.value) for t in TreatmentCode}
        out: dict[str, Any] = {
            "list_version_id": list_version_id,
            "outcome": CONVERTED,
            "segment_by": segment,
            "arms": arms,
            "estimate": None,
            "cuped": None,
            "cuped_note": None,
            "segments": [],
            "error": None,
            "attribution": await self.attribution(list_version_id),
        }
        y = np.array([r["outcome"] == CONVERTED for r in rows], dtype=np.float64)
        treated = np.array([r["treatment"] == TreatmentCode.TREATED.value for r in rows])
        # a row without a cluster (a list drawn without a hold-out) is a cluster of its own
        clusters = np.array([r["cluster"] or f"row:{r['customer_id']}" for r in rows])
        metrics = [r["pre_metric"] for r in rows]
        x = None
        if rows and all(m is not None for m in metrics):
            x = np.array(metrics, dtype=np.float64)
        else:
            missing = sum(1 for m in metrics if m is None)
            out["cuped_note"] = f"no CUPED: {missing} of {len(rows)} rows have no pre_metric"
        try:
            out["estimate"] = difference(y, treated, clusters).to_json()
            if x is not None:
                out["cuped"] = cuped(y, x, treated, clusters).to_json()
        except EffectError as exc:
            out["error"] = str(exc)
            return out
        if segment is not None:
            per = by_segment(y, treated, clusters, [r["segment"] for r in rows], x=x)
            out["segments"] = [{"segment": k, **_estimate(v)} for k, v in per.items()]
        return out
