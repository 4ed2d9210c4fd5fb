"""The served referral model is monotone in the evidence: raising any evidence feature of a
real candidate never lowers its score (property test on the model actually served)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms.referral_model.features import EVIDENCE, FEATURES, referral_features
from algorithms.referral_model.history import as_of, outcomes
from algorithms.referral_model.model import (
    MODEL_VERSION,
    FittedModel,
    fit_models,
    select_served,
    single_thread,
)
from synthbank.study import build_study_bank

Fitted = tuple[FittedModel, list[FittedModel], np.ndarray]
EVIDENCE_COLUMNS = [i for i, name in enumerate(FEATURES) if name in EVIDENCE]


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    bank = build_study_bank(4_000, seed=31)
    t = bank.window.start + 180
    snapshot = as_of(bank, t)
    matrix = referral_features(snapshot)
    labels = outcomes(bank, snapshot, 90)
    models = fit_models(matrix, labels, train_cutoff=t, horizon_days=90, seed=3)
    return select_served(models), models, matrix.values


def test_the_served_model_is_the_best_monotone_one_and_says_what_it_is(fitted: Fitted) -> None:
    served, models, _ = fitted
    assert served.record.monotone
    monotone = [m for m in models if m.record.monotone]
    best = max(m.record.metrics["validation_auc"] for m in monotone)
    assert served.record.metrics["validation_auc"] == best
    logistic = next(m for m in models if m.record.name == "logistic")
    evidence_weights = [logistic.record.coefficients[e] for e in logistic.record.evidence]
    assert logistic.record.monotone == all(w >= 0 for w in evidence_weights)
    assert served.record.version == MODEL_VERSION
    assert served.record.features == FEATURES
    assert served.record.seed == 3
    assert served.record.rows > served.record.positives > 0


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    row=st.integers(min_value=0, max_value=10**9),
    column=st.sampled_from(EVIDENCE_COLUMNS),
    step=st.floats(min_value=0.0, max_value=50.0, allow_nan=False),
    scale=st.floats(min_value=1.0, max_value=20.0, allow_nan=False),
)
def test_more_evidence_never_lowers_the_served_score(
    fitted: Fitted,
    row: int,
    column: int,
    step: float,
    scale: float,
) -> None:
    served, _, values = fitted
    base = values[row % len(values)].copy()
    raised = base.copy()
    raised[column] = base[column] * scale + step
    before, after = served.score(np.stack([base, raised]))
    assert after >= before - 1e-12


def test_the_check_would_catch_a_model_that_falls_with_evidence(fitted: Fitted) -> None:
    """The boosted model without constraints is not monotone somewhere on the same rows."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    *_, values = fitted
    rng = np.random.default_rng(0)
    labels = rng.random(len(values)) < 0.5  # noise: an unconstrained fit wiggles both ways
    with single_thread():
        free = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(values, labels)
        falls = 0
        for column in EVIDENCE_COLUMNS:
            raised = values.copy()
            raised[:, column] = raised[:, column] * 2 + 1
            lower = free.predict_proba(raised)[:, 1] < free.predict_proba(values)[:, 1]
            falls += int(lower.sum())
    assert falls > 0
