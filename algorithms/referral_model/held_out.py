"""The held-out comparison: bank -> time split -> fit -> judge on a later period -> report.

Two cut-offs: the models learn from features as of ``train_cutoff`` and adoptions in the
horizon after it; every ranking is then judged on features as of ``test_cutoff`` (at least a
horizon later, so the judged adoptions were never seen in fitting) and adoptions in the
horizon after that. Baselines are scored in the same run on the same candidates:

- ``random``: a seeded uniform score;
- ``popularity``: the product's take-up as of T in the candidate's segment (value tier x
  new/established) - what a marketer without the graph would use;
- ``fixed_weight``: today's ``0.40 link + 0.25 adoption + 0.20 tie + 0.15 influence``
  (:func:`algorithms.inproc.referral.score_referral_targets`, Adamic–Adar, influence =
  PageRank of the graph as of T) on the graph as of T; a candidate it does not rank
  (no holder within two ties) scores 0.

Permutation importance (``sklearn.inspection.permutation_importance``, AUC) is measured for
the served model on the held-out period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sklearn.inspection import permutation_importance  # type: ignore[import-untyped]

from algorithms.graphdata import GraphData
from algorithms.inproc.centrality import pagerank
from algorithms.inproc.referral import score_referral_targets
from algorithms.referral_model.evaluate import (
    Interval,
    RankingMetrics,
    bootstrap_difference,
    ranking_metrics,
)
from algorithms.referral_model.features import FeatureMatrix, referral_features
from algorithms.referral_model.history import F64, BankHistory, Snapshot, as_of, outcomes
from algorithms.referral_model.model import (
    FittedModel,
    ModelRecord,
    fit_models,
    select_served,
    single_thread,
)

__all__ = [
    "HeldOutConfig",
    "HeldOutReport",
    "fixed_weight_scores",
    "format_report",
    "held_out_evaluation",
    "popularity_scores",
]


@dataclass(frozen=True)
class HeldOutConfig:
    """Cut-offs (day numbers), horizon, k of the precision, bootstrap size and the seed."""

    train_cutoff: int
    test_cutoff: int
    horizon_days: int = 90
    k: int = 500
    n_resamples: int = 1_000
    importance_repeats: int = 5
    seed: int = 0


@dataclass(frozen=True)
class HeldOutReport:
    """Everything one held-out run measured, and which model it used."""

    served: ModelRecord
    candidates: int
    adopters: int
    metrics: dict[str, RankingMetrics]  # "learned" and every baseline
    learned_vs_fixed: dict[str, Interval]  # "auc", "precision_at_k"
    importance: list[tuple[str, float, float]]  # (feature, mean, std), highest first
    all_models: tuple[ModelRecord, ...]
    seconds: float


def snapshot_graph(snapshot: Snapshot) -> GraphData:
    """The ties as of T as an undirected graph of every customer (ids are indices)."""
    return GraphData.from_arrays(
        [str(i) for i in range(snapshot.n)],
        snapshot.src,
        snapshot.dst,
        directed=False,
        weight=snapshot.strength,
    )


def fixed_weight_scores(snapshot: Snapshot) -> F64:
    """Today's fixed-weight referral score of every candidate, on the graph as of T.

    Examples
    --------
    >>> from algorithms.referral_model.history import _Arrays, _i64
    >>> h = _Arrays(3, _i64([0, 1]), _i64([1, 2]), np.array([0.8, 0.5]), _i64([0, 0]),
    ...             _i64([]), _i64([]), _i64([]), _i64([0, 0, 0]), _i64([0, 0, 0]),
    ...             np.ones(3, dtype=bool), _i64([0, -1, -1]))
    >>> fixed_weight_scores(as_of(h, 10)).round(3).tolist()
    [0.385, 0.5]

    Customer 1, tied to the holder directly (0.8), ranks below customer 2, two ties away:
    the link term is zero for a direct tie (issue 13's first finding).
    """
    graph = snapshot_graph(snapshot)
    holders = [str(i) for i in np.flatnonzero(snapshot.holder).tolist()]
    candidates = [str(i) for i in snapshot.candidates.tolist()]
    influence = pagerank(graph).as_dict()
    ranked = score_referral_targets(
        graph,
        holders,
        eligible=candidates,
        influence=influence,
        method="adamic_adar",
        top_n=max(len(candidates), 1),
        top_introducers=1,
    )
    score = {int(t.candidate): t.score for t in ranked}
    return np.array([score.get(c, 0.0) for c in snapshot.candidates.tolist()])


def popularity_scores(snapshot: Snapshot) -> F64:
    """Take-up of the product as of T in each candidate's segment (tier x new customer).

    Examples
    --------
    >>> from algorithms.referral_model.history import _Arrays, _i64
    >>> h = _Arrays(4, _i64([]), _i64([]), np.zeros(0), _i64([]), _i64([]), _i64([]),
    ...             _i64([]), _i64([0, 0, 0, 0]), _i64([0, 0, 1, 1]),
    ...             np.ones(4, dtype=bool), _i64([1, -1, -1, -1]))
    >>> popularity_scores(as_of(h, 500)).tolist()
    [0.5, 0.0, 0.0]
    """
    new = snapshot.tenure_days < 365
    segment = snapshot.tier * 2 + new
    known = snapshot.known.astype(np.float64)
    holders = np.bincount(segment, weights=snapshot.holder * known)
    size = np.bincount(segment, weights=known)
    rate = holders / np.maximum(size, 1.0)
    return np.asarray(rate[segment[snapshot.candidates]], dtype=np.float64)


def _fit(history: BankHistory, config: HeldOutConfig) -> tuple[FittedModel, list[FittedModel]]:
    train = as_of(history, config.train_cutoff)
    matrix = referral_features(train, seed=config.seed)
    labels = outcomes(history, train, config.horizon_days)
    models = fit_models(
        matrix,
        labels,
        train_cutoff=config.train_cutoff,
        horizon_days=config.horizon_days,
        seed=config.seed,
    )
    return select_served(models), models


def held_out_evaluation(history: BankHistory, config: HeldOutConfig) -> HeldOutReport:
    """Fit on the training period, judge the served model and the baselines on the later one.

    Parameters
    ----------
    history : BankHistory
        A dated bank of one product (e.g. :func:`synthbank.study.build_study_bank`).
    config : HeldOutConfig
        ``test_cutoff`` must be at least ``horizon_days`` after ``train_cutoff``.

    Returns
    -------
    HeldOutReport

    Examples
    --------
    >>> from synthbank.study import build_study_bank
    >>> bank = build_study_bank(2_000, seed=4)
    >>> start = bank.window.start
    >>> config = HeldOutConfig(start + 180, start + 270, k=100, n_resamples=50,
    ...                        importance_repeats=1)
    >>> report = held_out_evaluation(bank, config)
    >>> sorted(report.metrics), report.served.version
    (['fixed_weight', 'learned', 'popularity', 'random'], 'referral-model/1')
    """
    if config.test_cutoff < config.train_cutoff + config.horizon_days:
        raise ValueError("the held-out period must start after the training labels end")
    started = time.perf_counter()
    with single_thread():  # the permutation importance makes ~10k small tree predictions
        return _evaluate(history, config, started)


def _evaluate(history: BankHistory, config: HeldOutConfig, started: float) -> HeldOutReport:
    served, models = _fit(history, config)
    test = as_of(history, config.test_cutoff)
    matrix: FeatureMatrix = referral_features(test, seed=config.seed)
    labels = outcomes(history, test, config.horizon_days)
    rng = np.random.default_rng(config.seed)
    scores = {
        "learned": served.score(matrix.values),
        "random": rng.random(len(labels)),
        "popularity": popularity_scores(test),
        "fixed_weight": fixed_weight_scores(test),
    }
    metrics = {
        name: ranking_metrics(name, labels, s, config.k, seed=config.seed)
        for name, s in scores.items()
    }
    differences = bootstrap_difference(
        labels,
        scores["learned"],
        scores["fixed_weight"],
        k=config.k,
        n_resamples=config.n_resamples,
        seed=config.seed,
    )
    permuted = permutation_importance(
        served.estimator,
        matrix.values,
        labels,
        scoring="roc_auc",
        n_repeats=config.importance_repeats,
        random_state=config.seed,
    )
    importance = sorted(
        (
            (name, float(mean), float(std))
            for name, mean, std in zip(
                matrix.names, permuted.importances_mean, permuted.importances_std, strict=True
            )
        ),
        key=lambda item: -item[1],
    )
    return HeldOutReport(
        served=served.record,
        candidates=len(labels),
        adopters=int(labels.sum()),
        metrics=metrics,
        learned_vs_fixed=differences,
        importance=importance,
        all_models=tuple(m.record for m in models),
        seconds=time.perf_counter() - started,
    )


def format_report(title: str, report: HeldOutReport, *, top_features: int = 6) -> str:
    """The report as the benchmark prints it."""
    k = next(iter(report.metrics.values())).k
    lines = [
        f"{title}: {report.candidates} candidates, {report.adopters} adopted in the held-out "
        f"period; served {report.served.name} ({report.served.version}, trained to "
        f"{report.served.train_cutoff}, labels until {report.served.label_until}, seed "
        f"{report.served.seed})",
        f"  {'ranking':<13}{'P@' + str(k):>9}{'R@' + str(k):>9}{'lift':>8}{'AUC':>8}",
    ]
    for name in ("learned", "fixed_weight", "popularity", "random"):
        m = report.metrics[name]
        lines.append(
            f"  {name:<13}{m.precision_at_k:>9.3f}{m.recall_at_k:>9.3f}"
            f"{m.lift_at_k:>8.2f}{m.auc:>8.3f}"
        )
    for key, label in (("auc", "AUC"), ("precision_at_k", f"P@{k}")):
        d = report.learned_vs_fixed[key]
        lines.append(
            f"  learned - fixed_weight {label}: {d.estimate:+.3f} "
            f"(bootstrap 95% CI {d.low:+.3f} .. {d.high:+.3f})"
        )
    for record in report.all_models:
        lines.append(
            f"  model {record.name}: validation AUC {record.metrics['validation_auc']:.3f}, "
            f"monotone {record.monotone}"
        )
    shown = ", ".join(f"{n} {m:.3f}" for n, m, _ in report.importance[:top_features])
    lines.append(f"  permutation importance (AUC drop): {shown}")
    return "\n".join(lines)
