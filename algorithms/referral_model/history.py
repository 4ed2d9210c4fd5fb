"""The time split: the bank as it stood on a cut-off day T, and who adopted after it.

Features may read only a :class:`Snapshot`: ties, scenario participation and holdings dated
before T, among customers onboarded before T. The label of a candidate is whether they took
the product in ``[T, T + horizon)``. Nothing dated on or after T reaches a snapshot, which is
what ``tests/unit/algorithms/test_referral_features.py`` checks by moving T.

The value tier is the one attribute without a date in the history (the bank keeps only the
current AUM band); it is read as is, a known, small look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

__all__ = ["BankHistory", "Snapshot", "as_of", "outcomes"]


class BankHistory(Protocol):
    """Dated arrays of one product's history; customer ``i`` is index ``i``.

    Days are integers (days since 1970-01-01). ``adopted`` is the day a customer took the
    product, -1 if never; ``eligible`` says who may take it at all.
    """

    @property
    def n(self) -> int: ...
    @property
    def tie_src(self) -> I64: ...
    @property
    def tie_dst(self) -> I64: ...
    @property
    def tie_strength(self) -> F64: ...
    @property
    def tie_since(self) -> I64: ...
    @property
    def part_customer(self) -> I64: ...
    @property
    def part_scenario(self) -> I64: ...
    @property
    def part_since(self) -> I64: ...
    @property
    def onboarded(self) -> I64: ...
    @property
    def tier(self) -> I64: ...
    @property
    def eligible(self) -> Bool: ...
    @property
    def adopted(self) -> I64: ...


@dataclass(frozen=True, eq=False)
class Snapshot:
    """The bank as of ``cutoff``: what a model may read.

    ``candidates`` are the eligible customers known on the cut-off day who do not hold the
    product yet, in ascending index order.
    """

    cutoff: int
    n: int
    src: I64
    dst: I64
    strength: F64
    part_customer: I64
    part_scenario: I64
    holder: Bool
    known: Bool
    tier: I64
    tenure_days: I64
    candidates: I64


@dataclass(frozen=True, eq=False)
class _Arrays:
    """A plain :class:`BankHistory` (used by the examples and tests)."""

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


def _i64(values: object) -> I64:
    return np.ascontiguousarray(values, dtype=np.int64)


def as_of(history: BankHistory, cutoff: int) -> Snapshot:
    """The bank as it stood on day ``cutoff`` (everything dated before it, nothing after).

    Parameters
    ----------
    history : BankHistory
        The dated arrays.
    cutoff : int
        The day T; a tie, participation, holding or onboarding dated T or later is unseen.

    Returns
    -------
    Snapshot

    Examples
    --------
    >>> h = _Arrays(3, _i64([0, 1]), _i64([1, 2]), np.array([0.5, 0.9]), _i64([1, 8]),
    ...             _i64([2]), _i64([0]), _i64([3]), _i64([0, 0, 0]), _i64([0, 0, 1]),
    ...             np.ones(3, dtype=bool), _i64([2, 9, -1]))
    >>> snap = as_of(h, 5)
    >>> snap.src.tolist(), snap.holder.tolist(), snap.candidates.tolist()
    ([0], [True, False, False], [1, 2])
    """
    known = np.asarray(history.onboarded < cutoff, dtype=np.bool_)
    live = (history.tie_since < cutoff) & known[history.tie_src] & known[history.tie_dst]
    joined = (history.part_since < cutoff) & known[history.part_customer]
    holder = (history.adopted >= 0) & (history.adopted < cutoff) & known
    candidates = np.flatnonzero(history.eligible & known & ~holder)
    return Snapshot(
        cutoff=cutoff,
        n=history.n,
        src=_i64(history.tie_src[live]),
        dst=_i64(history.tie_dst[live]),
        strength=np.asarray(history.tie_strength[live], dtype=np.float64),
        part_customer=_i64(history.part_customer[joined]),
        part_scenario=_i64(history.part_scenario[joined]),
        holder=np.asarray(holder, dtype=np.bool_),
        known=known,
        tier=_i64(history.tier),
        tenure_days=_i64(np.maximum(cutoff - history.onboarded, 0)),
        candidates=_i64(candidates),
    )


def outcomes(history: BankHistory, snapshot: Snapshot, horizon_days: int) -> Bool:
    """Whether each of ``snapshot.candidates`` took the product in ``[T, T + horizon_days)``.

    Examples
    --------
    >>> h = _Arrays(3, _i64([0]), _i64([1]), np.array([0.5]), _i64([1]), _i64([]),
    ...             _i64([]), _i64([]), _i64([0, 0, 0]), _i64([0, 0, 0]),
    ...             np.ones(3, dtype=bool), _i64([2, 9, 30]))
    >>> outcomes(h, as_of(h, 5), 10).tolist()
    [True, False]
    """
    day = history.adopted[snapshot.candidates]
    return np.asarray(
        (day >= snapshot.cutoff) & (day < snapshot.cutoff + horizon_days), dtype=np.bool_
    )
