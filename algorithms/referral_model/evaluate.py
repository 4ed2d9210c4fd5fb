"""How well a ranking predicts who adopts: precision, recall and lift at k, AUC, and bootstrap
intervals of the difference between two rankings on the same candidates.

Ties in a score are broken by a fixed, seeded random order, so a constant score ranks like a
random one instead of like the input order. The bootstrap resamples candidates with
replacement (as multiplicities, so each resample costs a few passes over the arrays) and
recomputes both rankings' metrics on each resample; the interval is the 2.5th to 97.5th
percentile of the difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

from algorithms.referral_model.history import F64, I64, Bool

__all__ = [
    "Interval",
    "RankingMetrics",
    "bootstrap_difference",
    "precision_at_k",
    "ranking_metrics",
    "recall_at_k",
]


@dataclass(frozen=True)
class RankingMetrics:
    """One ranking judged on outcomes."""

    name: str
    k: int
    precision_at_k: float
    recall_at_k: float
    lift_at_k: float  # precision at k / the base rate (random: about 1)
    auc: float


@dataclass(frozen=True)
class Interval:
    """A difference (a - b) and its bootstrap 95% interval."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0.0 or self.high < 0.0


def _order(scores: F64, seed: int) -> I64:
    """Candidates best first; ties in a fixed random order."""
    tiebreak = np.random.default_rng(seed).random(len(scores))
    return np.asarray(np.lexsort((tiebreak, -scores)), dtype=np.int64)


def _weighted_precision(labels: Bool, order: I64, weight: F64, k: int) -> float:
    """Precision among the first ``k`` rows (counted with ``weight``) of ``order``."""
    w = weight[order]
    before = np.cumsum(w) - w
    take = np.clip(k - before, 0.0, w)
    return float((take * labels[order]).sum() / k)


def _weighted_auc(labels: Bool, levels: I64, weight: F64) -> float:
    """AUC with multiplicities; ``levels`` ranks the scores (equal scores, equal level)."""
    positive = np.bincount(levels, weights=weight * labels)
    negative = np.bincount(levels, weights=weight * ~labels)
    below = np.cumsum(negative) - negative
    pairs = positive.sum() * negative.sum()
    return float((positive * (below + 0.5 * negative)).sum() / pairs) if pairs else 0.5


def precision_at_k(labels: Bool, scores: F64, k: int, *, seed: int = 0) -> float:
    """Share of adopters among the top ``k`` by score.

    Examples
    --------
    >>> precision_at_k(np.array([True, False, True, False]), np.array([4.0, 3, 2, 1]), 2)
    0.5
    """
    return _weighted_precision(labels, _order(scores, seed), np.ones(len(scores)), k)


def recall_at_k(labels: Bool, scores: F64, k: int, *, seed: int = 0) -> float:
    """Share of all adopters found in the top ``k``.

    Examples
    --------
    >>> recall_at_k(np.array([True, False, True, False]), np.array([4.0, 3, 2, 1]), 3)
    1.0
    """
    found = precision_at_k(labels, scores, k, seed=seed) * k
    total = int(labels.sum())
    return found / total if total else 0.0


def ranking_metrics(
    name: str, labels: Bool, scores: F64, k: int, *, seed: int = 0
) -> RankingMetrics:
    """Precision, recall and lift at ``k`` and AUC (``sklearn.metrics.roc_auc_score``).

    Examples
    --------
    >>> m = ranking_metrics("s", np.array([True, False, True, False]), np.array([4.0, 3, 2, 1]), 1)
    >>> m.precision_at_k, m.lift_at_k, m.auc
    (1.0, 2.0, 0.75)
    """
    precision = precision_at_k(labels, scores, k, seed=seed)
    base = float(labels.mean()) if len(labels) else 0.0
    return RankingMetrics(
        name=name,
        k=k,
        precision_at_k=precision,
        recall_at_k=recall_at_k(labels, scores, k, seed=seed),
        lift_at_k=precision / base if base else 0.0,
        auc=float(roc_auc_score(labels, scores)),
    )


def bootstrap_difference(
    labels: Bool,
    a: F64,
    b: F64,
    *,
    k: int,
    n_resamples: int = 1_000,
    seed: int = 0,
) -> dict[str, Interval]:
    """Bootstrap 95% intervals of ``AUC(a) - AUC(b)`` and ``P@k(a) - P@k(b)``.

    Parameters
    ----------
    labels : array of bool
        Outcome of each candidate.
    a, b : arrays of float
        Two scores of the same candidates.
    k : int
        Cut-off of the precision.
    n_resamples : int
        Bootstrap resamples (candidates drawn with replacement).
    seed : int
        Seed of the resampling and of the tie-break order.

    Returns
    -------
    dict
        ``{"auc": Interval, "precision_at_k": Interval}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(2_000) < 0.2
    >>> good, noise = y + rng.normal(0, 1, 2_000), rng.normal(0, 1, 2_000)
    >>> d = bootstrap_difference(y, good, noise, k=100, n_resamples=200)
    >>> d["auc"].excludes_zero, d["auc"].low > 0.1
    (True, True)
    """
    n = len(labels)
    rng = np.random.default_rng(seed)
    orders = [_order(s, seed) for s in (a, b)]
    levels = [np.unique(s, return_inverse=True)[1].astype(np.int64) for s in (a, b)]
    ones = np.ones(n)
    estimate = {
        "auc": _weighted_auc(labels, levels[0], ones) - _weighted_auc(labels, levels[1], ones),
        "precision_at_k": _weighted_precision(labels, orders[0], ones, k)
        - _weighted_precision(labels, orders[1], ones, k),
    }
    metric: dict[str, Callable[[int, F64], float]] = {
        "auc": lambda i, w: _weighted_auc(labels, levels[i], w),
        "precision_at_k": lambda i, w: _weighted_precision(labels, orders[i], w, k),
    }
    draws: dict[str, list[float]] = {name: [] for name in metric}
    for _ in range(n_resamples):
        weight = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        for name, compute in metric.items():
            draws[name].append(compute(0, weight) - compute(1, weight))
    return {
        name: Interval(
            estimate=estimate[name],
            low=float(np.percentile(draws[name], 2.5)),
            high=float(np.percentile(draws[name], 97.5)),
        )
        for name in metric
    }
