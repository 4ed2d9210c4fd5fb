"""The referral features read the bank as of the cut-off day and nothing later: adding ties,
holdings, participation and customers dated after T, or cutting the history at T, leaves the
features at T unchanged; the same change dated before T does change them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from algorithms.referral_model.features import FEATURES, referral_features
from algorithms.referral_model.history import as_of, outcomes
from synthbank.study import StudyBank, build_study_bank


@pytest.fixture(scope="module")
def bank() -> StudyBank:
    return build_study_bank(2_000, seed=21)


def _cutoff(bank: StudyBank) -> int:
    return bank.window.start + 180


def _with_future(bank: StudyBank, day_low: int, day_high: int, seed: int) -> StudyBank:
    """The bank plus new ties, participation and holdings dated in [day_low, day_high)."""
    rng = np.random.default_rng(seed)
    n, m = bank.n, 3_000
    days = rng.integers(day_low, day_high, m)
    adopted = bank.adopted.copy()
    fresh = np.flatnonzero(adopted < 0)[:300]
    adopted[fresh] = rng.integers(day_low, day_high, len(fresh))
    return dataclasses.replace(
        bank,
        tie_src=np.concatenate([bank.tie_src, rng.integers(0, n, m)]),
        tie_dst=np.concatenate([bank.tie_dst, rng.integers(0, n, m)]),
        tie_strength=np.concatenate([bank.tie_strength, rng.random(m)]),
        tie_since=np.concatenate([bank.tie_since, days]),
        part_customer=np.concatenate([bank.part_customer, rng.integers(0, n, m)]),
        part_scenario=np.concatenate(
            [bank.part_scenario, rng.integers(0, int(bank.part_scenario.max()) + 1, m)]
        ),
        part_since=np.concatenate([bank.part_since, days]),
        adopted=adopted,
    )


def test_events_after_the_cutoff_do_not_change_the_features(bank: StudyBank) -> None:
    t = _cutoff(bank)
    before = referral_features(as_of(bank, t))
    later = _with_future(bank, t, t + 400, seed=1)
    after = referral_features(as_of(later, t))
    assert np.array_equal(before.candidates, after.candidates)
    assert np.array_equal(before.values, after.values)


def test_the_same_events_dated_before_the_cutoff_do_change_them(bank: StudyBank) -> None:
    t = _cutoff(bank)
    before = referral_features(as_of(bank, t))
    earlier = _with_future(bank, t - 400, t, seed=1)
    after = referral_features(as_of(earlier, t))
    assert not np.array_equal(before.candidates, after.candidates)
    shared, i, j = np.intersect1d(before.candidates, after.candidates, return_indices=True)
    assert len(shared) > 0
    assert not np.array_equal(before.values[i], after.values[j])


@pytest.mark.parametrize("shift", [0, 30, 75])
def test_moving_the_cutoff_reads_only_the_history_before_it(bank: StudyBank, shift: int) -> None:
    """Features at T from the full history equal those from the history cut at T."""
    t = _cutoff(bank) + shift
    cut = dataclasses.replace(
        bank,
        tie_src=bank.tie_src[bank.tie_since < t],
        tie_dst=bank.tie_dst[bank.tie_since < t],
        tie_strength=bank.tie_strength[bank.tie_since < t],
        tie_since=bank.tie_since[bank.tie_since < t],
        part_customer=bank.part_customer[bank.part_since < t],
        part_scenario=bank.part_scenario[bank.part_since < t],
        part_since=bank.part_since[bank.part_since < t],
        adopted=np.where(bank.adopted < t, bank.adopted, -1),
        onboarded=np.where(bank.onboarded < t, bank.onboarded, t + 10_000),
    )
    full = referral_features(as_of(bank, t))
    truncated = referral_features(as_of(cut, t))
    assert np.array_equal(full.candidates, truncated.candidates)
    assert np.array_equal(full.values, truncated.values)


def test_customers_onboarded_after_the_cutoff_are_not_in_the_snapshot(bank: StudyBank) -> None:
    t = bank.window.start
    snapshot = as_of(bank, t)
    assert np.all(bank.onboarded[snapshot.candidates] < t)
    late = np.flatnonzero(bank.onboarded >= t)
    assert len(late) > 0
    ends = np.concatenate([snapshot.src, snapshot.dst])
    assert not np.isin(late, ends).any()


def test_labels_are_adoptions_in_the_horizon_after_the_cutoff(bank: StudyBank) -> None:
    t = _cutoff(bank)
    snapshot = as_of(bank, t)
    labels = outcomes(bank, snapshot, 90)
    day = bank.adopted[snapshot.candidates]
    assert labels.sum() > 0
    assert np.all((day[labels] >= t) & (day[labels] < t + 90))
    assert not np.any((day[~labels] >= t) & (day[~labels] < t + 90))


def test_every_feature_is_finite_and_the_evidence_rises_with_adoption(bank: StudyBank) -> None:
    t = _cutoff(bank)
    snapshot = as_of(bank, t)
    matrix = referral_features(snapshot)
    labels = outcomes(bank, snapshot, 90)
    assert matrix.values.shape == (len(snapshot.candidates), len(FEATURES))
    assert np.isfinite(matrix.values).all()
    strength = matrix.column("holder_strength")
    assert strength[labels].mean() > 1.5 * strength[~labels].mean()
