"""The learned referral score on a stored graph: fit on its own history, score today's candidates.

The graph's dated history (:class:`~graph.repositories.referral_targets.ReferralHistoryRows`:
``HOLDS.since``, ties and participation with their ``since``, onboarding, tier) becomes a
:class:`~algorithms.referral_model.history.BankHistory`. The history ends on day E, the day after
the product's newest dated holding (at most the day after today: a bank's data is loaded with a
lag, and a window ending today would hold no adoptions yet). For a horizon H the model learns
from the features as of T0 = E - H (:func:`~.history.as_of`: nothing dated T0 or later) and the
label "took the product in [T0, E)"; it then scores the features as of the end of today.

A stored value without a date is taken to predate every cut-off (a tie or holding with no
``since``, a customer with no ``onboarded_at``): it can be a feature, never a label. With fewer
than ``min_adopters`` adoptions in [T0, E) (or fewer non-adopters), nothing is fitted and
:func:`fit_on_history` says why, for the run to fall back to the fixed-weight score and record
it. Nor is a model served that does no better than the fixed-weight score: both are judged
on the same held-back validation quarter of the training rows (AUC), and a learned model that
does not beat the fixed one is reported, not used. A feature's *contribution* to a target's
score is how much the score falls when that feature alone is set to its median over today's
candidates (positive: it raised the score).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

from algorithms.referral_model.features import FeatureMatrix, referral_features
from algorithms.referral_model.held_out import fixed_weight_scores
from algorithms.referral_model.history import F64, I64, Bool, Snapshot, _i64, as_of, outcomes
from algorithms.referral_model.model import (
    VALIDATION_SHARE,
    FittedModel,
    _iso,
    fit_models,
    select_served,
)
from graph.model import Tier
from graph.repositories.referral_targets import ReferralHistoryRows

__all__ = ["DEFAULT_MIN_ADOPTERS", "ServedModel", "StoredHistory", "fit_on_history"]

DEFAULT_MIN_ADOPTERS: Final = 30
_TIERS: Final = {tier.value: rank for rank, tier in enumerate(Tier)}


@dataclass(frozen=True, eq=False)
class StoredHistory:
    """A :class:`~.history.BankHistory` read from the graph; customer ``i`` is ``ids[i]``."""

    ids: tuple[str, ...]
    n: int
    tie_src: I64
    tie_dst: I64
    tie_strength: F64
    tie_since: I64
    part_customer: I64
    part_scenario: I64
    part_since: I64
    onboarded: I64
    tier: I64
    eligible: Bool
    adopted: I64

    @classmethod
    def from_rows(cls, rows: ReferralHistoryRows) -> StoredHistory:
        """The dated arrays of ``rows``; undated values predate every day in the rows.

        Examples
        --------
        >>> rows = ReferralHistoryRows(
        ...     customers=[("A", 100, "MASS"), ("B", None, "PRIVATE")],
        ...     ties=[("A", "B", "FRIEND", 0.5, None), ("A", "X", "FRIEND", 0.9, 5)],
        ...     participation=[], holdings=[("A", 150)], eligible=["A", "B"])
        >>> h = StoredHistory.from_rows(rows)
        >>> h.onboarded.tolist(), h.tier.tolist(), h.adopted.tolist(), h.tie_since.tolist()
        ([100, 4], [0, 3], [150, -1], [4])
        """
        ids = tuple(c for c, _, _ in rows.customers)
        index = {c: i for i, c in enumerate(ids)}
        days = [d for _, d, _ in rows.customers if d is not None]
        days += [d for *_, d in rows.ties if d is not None]
        days += [d for *_, d in rows.participation if d is not None]
        days += [d for _, d in rows.holdings if d is not None]
        early = min(days) - 1 if days else 0
        ties = [
            (index[a], index[b], s, early if d is None else d)
            for a, b, _, s, d in rows.ties
            if a in index and b in index
        ]
        scenarios: dict[str, int] = {}
        part = [
            (index[c], scenarios.setdefault(s, len(scenarios)), early if d is None else d)
            for c, s, d in rows.participation
            if c in index
        ]
        adopted = np.full(len(ids), -1, dtype=np.int64)
        for c, d in rows.holdings:
            if c in index:
                day = early if d is None else d
                i = index[c]
                adopted[i] = day if adopted[i] < 0 else min(int(adopted[i]), day)
        eligible = np.zeros(len(ids), dtype=np.bool_)
        eligible[[index[c] for c in rows.eligible if c in index]] = True
        column = _i64
        return cls(
            ids=ids,
            n=len(ids),
            tie_src=column([t[0] for t in ties]),
            tie_dst=column([t[1] for t in ties]),
            tie_strength=np.asarray([t[2] for t in ties], dtype=np.float64),
            tie_since=column([t[3] for t in ties]),
            part_customer=column([p[0] for p in part]),
            part_scenario=column([p[1] for p in part]),
            part_since=column([p[2] for p in part]),
            onboarded=column([early if d is None else d for _, d, _ in rows.customers]),
            tier=column([_TIERS.get(t or "", 0) for _, _, t in rows.customers]),
            eligible=eligible,
            adopted=adopted,
        )


@dataclass(frozen=True, eq=False)
class ServedModel:
    """The model fitted on the history and the features of today's candidates."""

    fitted: FittedModel
    ids: tuple[str, ...]
    matrix: FeatureMatrix  # today's candidates
    reference: F64  # per feature: its median over today's candidates
    row_of: dict[str, int]
    fixed_validation_auc: float  # the fixed-weight score on the model's validation rows

    @property
    def label(self) -> str:
        """``<name> <version>``, e.g. ``boosted referral-model/1``: what a target names."""
        return f"{self.fitted.record.name} {self.fitted.record.version}"

    def rows(self, customers: list[str]) -> F64:
        return np.asarray(
            self.matrix.values[[self.row_of[c] for c in customers]], dtype=np.float64
        ).reshape(len(customers), len(self.matrix.names))

    def scores(self, customers: list[str]) -> dict[str, float]:
        """The model's probability of adoption for those of ``customers`` it has features for."""
        known = [c for c in customers if c in self.row_of]
        if not known:
            return {}
        return dict(zip(known, self.fitted.score(self.rows(known)).tolist(), strict=True))

    def parts(self, customers: list[str]) -> dict[str, list[dict[str, float | str]]]:
        """Per customer: every feature's value and contribution, largest contribution first."""
        known = [c for c in customers if c in self.row_of]
        if not known:
            return {}
        values = self.rows(known)
        base = self.fitted.score(values)
        columns = []
        for j in range(values.shape[1]):
            moved = values.copy()
            moved[:, j] = self.reference[j]
            columns.append(base - self.fitted.score(moved))
        contribution = np.stack(columns, axis=1)
        found: dict[str, list[dict[str, float | str]]] = {}
        for i, customer in enumerate(known):
            parts: list[dict[str, float | str]] = [
                {
                    "feature": name,
                    "value": float(values[i, j]),
                    "contribution": float(contribution[i, j]),
                }
                for j, name in enumerate(self.matrix.names)
            ]
            parts.sort(key=lambda p: (-abs(float(p["contribution"])), str(p["feature"])))
            found[customer] = parts
        return found


def fit_on_history(
    history: StoredHistory,
    *,
    today: int,
    horizon_days: int,
    min_adopters: int = DEFAULT_MIN_ADOPTERS,
    seed: int = 0,
) -> ServedModel | str:
    """Fit the referral model on the adoptions of the last ``horizon_days`` before ``today``.

    Parameters
    ----------
    history : StoredHistory
        The product's dated history.
    today : int
        Days since 1970-01-01; the features scored are read as of the end of today.
    horizon_days : int
        H: features as of E - H, labels = adoption in [E - H, E), E the day after the newest
        dated holding (at most the day after today).
    min_adopters : int
        Fewest adopters (and non-adopters) in the window to fit at all.
    seed : int
        Seed of the split, the estimators and the Louvain communities.

    Returns
    -------
    ServedModel or str
        The served model (the better monotone one), or why none is served (too few
        adopters, or no better than the fixed-weight score on the validation rows).

    Examples
    --------
    >>> rows = ReferralHistoryRows([("A", 0, None), ("B", 0, None)], [], [], [("A", 50)],
    ...                            ["A", "B"])
    >>> fit_on_history(StoredHistory.from_rows(rows), today=100, horizon_days=40)
    '1 adopter(s) in [1970-01-12, 1970-02-21), 1 other candidate(s): 30 of each needed to fit'
    """
    if not history.n or int(history.adopted.max()) < 0:
        return "no holdings of the product: nothing to learn from"
    end = min(int(history.adopted.max()) + 1, today + 1)
    cutoff = end - horizon_days
    train = as_of(history, cutoff)
    labels = outcomes(history, train, horizon_days)
    adopters = int(labels.sum())
    others = len(labels) - adopters
    if adopters < min_adopters or others < min_adopters:
        return (
            f"{adopters} adopter(s) in [{_iso(cutoff)}, {_iso(end)}), {others} other "
            f"candidate(s): {min_adopters} of each needed to fit"
        )
    matrix = referral_features(train, seed=seed)
    models = fit_models(matrix, labels, train_cutoff=cutoff, horizon_days=horizon_days, seed=seed)
    served = select_served(models)
    fixed_auc = _fixed_validation_auc(train, labels, seed)
    learned_auc = served.record.metrics["validation_auc"]
    if learned_auc <= fixed_auc:
        return (
            f"the learned model ({served.record.name}) does no better than the fixed weights "
            f"on its validation rows: AUC {learned_auc:.3f} vs {fixed_auc:.3f}"
        )
    now = as_of(history, today + 1)
    serving = referral_features(now, seed=seed)
    reference = (
        np.median(serving.values, axis=0)
        if len(serving.candidates)
        else np.zeros(len(serving.names))
    )
    row_of = {history.ids[c]: i for i, c in enumerate(serving.candidates.tolist())}
    return ServedModel(served, history.ids, serving, np.asarray(reference), row_of, fixed_auc)


def _fixed_validation_auc(train: Snapshot, labels: Bool, seed: int) -> float:
    """AUC of the fixed-weight score on the validation rows :func:`fit_models` holds back
    (the same seeded, stratified split)."""
    rows = np.arange(len(labels))
    _, valid = train_test_split(
        rows, test_size=VALIDATION_SHARE, stratify=labels, random_state=seed
    )
    return float(roc_auc_score(labels[valid], fixed_weight_scores(train)[valid]))
