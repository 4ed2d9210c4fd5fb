"""Fit the referral score on past adoptions, monotone in the evidence, and choose one to serve.

Two scikit-learn models are fitted on the same rows (features at a training cut-off T0,
labels = adoption in the horizon after T0):

- ``logistic``: logistic regression on ``log1p`` of the features, standardised. Monotone in
  the evidence only if every evidence coefficient comes out >= 0; it is checked, not forced.
- ``boosted``: histogram gradient boosting with ``monotonic_cst`` +1 on every evidence
  feature, so more or stronger ties to holders never lower its score, by construction.

A quarter of the rows (stratified, seeded) is held back for validation; the served model is
the one with the higher validation AUC among the monotone ones. Each model carries a
:class:`ModelRecord`: version, training window, features, seed and validation metrics.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import average_precision_score, roc_auc_score  # type: ignore[import-untyped]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from algorithms.referral_model.features import EVIDENCE, FeatureMatrix
from algorithms.referral_model.history import F64, Bool

__all__ = [
    "MODEL_VERSION",
    "FittedModel",
    "ModelRecord",
    "fit_models",
    "select_served",
    "single_thread",
]

MODEL_VERSION: Final = "referral-model/1"
VALIDATION_SHARE: Final = 0.25


@dataclass(frozen=True)
class ModelRecord:
    """What a fitted model is: kept with it, and named by every run that uses it."""

    name: str  # "logistic" | "boosted"
    version: str
    train_cutoff: str  # ISO date of the features' cut-off T0
    label_until: str  # ISO date: labels are adoptions in [train_cutoff, label_until)
    features: tuple[str, ...]
    evidence: tuple[str, ...]
    seed: int
    rows: int
    positives: int
    monotone: bool
    metrics: dict[str, float]  # validation AUC and average precision
    coefficients: dict[str, float] = field(default_factory=dict)  # logistic only

    def to_json(self) -> str:
        """The record as JSON, to store next to a run's results.

        Examples
        --------
        >>> record = ModelRecord("boosted", MODEL_VERSION, "2026-01-02", "2026-04-02",
        ...                      ("holder_ties",), ("holder_ties",), 7, 100, 9, True,
        ...                      {"validation_auc": 0.8})
        >>> json.loads(record.to_json())["version"], json.loads(record.to_json())["seed"]
        ('referral-model/1', 7)
        """
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A fitted scikit-learn estimator and its record."""

    record: ModelRecord
    estimator: Any

    def score(self, values: F64) -> F64:
        """Probability of adoption in the horizon, for rows laid out as ``record.features``."""
        with single_thread():
            return np.asarray(self.estimator.predict_proba(values)[:, 1], dtype=np.float64)


def single_thread() -> Any:
    """One OpenMP thread for scikit-learn: on a small shared machine its threads spin-wait for
    each other, and a boosted model's many small predictions run ten times slower."""
    return threadpool_limits(limits=1, user_api="openmp")


def _iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _logistic(seed: int) -> Pipeline:
    return make_pipeline(
        FunctionTransformer(np.log1p),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=2_000, random_state=seed),
    )


def _boosted(names: tuple[str, ...], seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        learning_rate=0.06,
        max_iter=150,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        monotonic_cst=[1 if name in EVIDENCE else 0 for name in names],
        early_stopping=False,
        random_state=seed,
    )


def fit_models(
    matrix: FeatureMatrix,
    labels: Bool,
    *,
    train_cutoff: int,
    horizon_days: int,
    seed: int = 0,
) -> list[FittedModel]:
    """Fit the logistic and the monotone boosted model on one training period.

    Parameters
    ----------
    matrix : FeatureMatrix
        Features of the candidates as of ``train_cutoff``.
    labels : array of bool
        Whether each candidate adopted within ``horizon_days`` after ``train_cutoff``.
    train_cutoff, horizon_days : int
        The training window (day number and length), written into each record.
    seed : int
        Seed of the validation split and of both estimators.

    Returns
    -------
    list of FittedModel
        ``logistic`` then ``boosted``; each record has its validation metrics.

    Examples
    --------
    >>> from algorithms.referral_model.features import FEATURES
    >>> rng = np.random.default_rng(0)
    >>> x = rng.exponential(1.0, (400, len(FEATURES)))
    >>> y = rng.random(400) < 1 / (1 + np.exp(3 - 2 * x[:, 0]))
    >>> m = FeatureMatrix(FEATURES, np.arange(400), x)
    >>> models = fit_models(m, y, train_cutoff=20_000, horizon_days=90, seed=1)
    >>> [(f.record.name, f.record.metrics["validation_auc"] > 0.7) for f in models]
    [('logistic', True), ('boosted', True)]
    >>> models[1].record.monotone, models[1].record.label_until
    (True, '2025-01-02')
    """
    with single_thread():
        return _fit_all(matrix, labels, train_cutoff, horizon_days, seed)


def _fit_all(
    matrix: FeatureMatrix, labels: Bool, train_cutoff: int, horizon_days: int, seed: int
) -> list[FittedModel]:
    names = matrix.names
    evidence = tuple(name for name in names if name in EVIDENCE)
    rows = np.arange(len(labels))
    fit_rows, valid_rows = train_test_split(
        rows, test_size=VALIDATION_SHARE, stratify=labels, random_state=seed
    )
    x_fit, y_fit = matrix.values[fit_rows], labels[fit_rows]
    x_valid, y_valid = matrix.values[valid_rows], labels[valid_rows]
    fitted = []
    for name, estimator in (("logistic", _logistic(seed)), ("boosted", _boosted(names, seed))):
        estimator.fit(x_fit, y_fit)
        predicted = estimator.predict_proba(x_valid)[:, 1]
        coefficients: dict[str, float] = {}
        monotone = True
        if name == "logistic":
            weights = estimator[-1].coef_.ravel().tolist()
            coefficients = dict(zip(names, (float(w) for w in weights), strict=True))
            monotone = all(coefficients[e] >= 0.0 for e in evidence)
        record = ModelRecord(
            name=name,
            version=MODEL_VERSION,
            train_cutoff=_iso(train_cutoff),
            label_until=_iso(train_cutoff + horizon_days),
            features=names,
            evidence=evidence,
            seed=seed,
            rows=len(fit_rows),
            positives=int(y_fit.sum()),
            monotone=monotone,
            metrics={
                "validation_auc": float(roc_auc_score(y_valid, predicted)),
                "validation_average_precision": float(average_precision_score(y_valid, predicted)),
            },
            coefficients=coefficients,
        )
        fitted.append(FittedModel(record, estimator))
    return fitted


def select_served(models: list[FittedModel]) -> FittedModel:
    """The monotone model with the best validation AUC (ties: the first listed).

    The boosted model is monotone by construction, so there is always one to serve.

    Examples
    --------
    >>> record = ModelRecord("a", MODEL_VERSION, "", "", (), (), 0, 0, 0, False,
    ...                      {"validation_auc": 0.9})
    >>> other = ModelRecord("b", MODEL_VERSION, "", "", (), (), 0, 0, 0, True,
    ...                     {"validation_auc": 0.8})
    >>> select_served([FittedModel(record, None), FittedModel(other, None)]).record.name
    'b'
    """
    monotone = [m for m in models if m.record.monotone]
    if not monotone:
        raise ValueError("no monotone model to serve")
    return max(monotone, key=lambda m: m.record.metrics["validation_auc"])
